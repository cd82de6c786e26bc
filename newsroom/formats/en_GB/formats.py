# Django's British formats, with the zone abbreviation ("T") on every date and time.
DATETIME_FORMAT = "j M Y, H:i T"
SHORT_DATETIME_FORMAT = "d/m/Y H:i T"
