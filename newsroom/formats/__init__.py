"""Date formats that name the time zone (FORMAT_MODULE_PATH in settings).

Every time the admin shows (lists, read-only fields, messages) carries the newsroom's zone
abbreviation ("14:05 BST"), so an editor never has to guess whether a time is UTC.
"""
