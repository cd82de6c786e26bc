"""Deterministic, realistic-looking news content for the large benchmark dataset.

Everything here is a pure function of a seed and an index, so `seed_bulk` can top up a
dataset (or be re-run) and produce the same article number 41,207 every time, without
keeping state. Text is assembled from a generated vocabulary with a Zipf-like word
frequency: English function words and news words at the head (so PostgreSQL's English
text search config, stop words and stemming behave as on real copy), several thousand
made-up words in the tail (so the search index has a realistic number of lexemes).
"""

import itertools
import random
from functools import cached_property

FUNCTION_WORDS = """
the of and to a in that is for on with as was by it at from be has have are but
not this an or which its their had were after over they been more than would who
also into will about new could only while when some there one two other most since
what before last year under against between still says said may all both many
""".split()  # noqa: SIM905 (a word list reads better as text)

NEWS_WORDS = """
government minister president election ceasefire border talks sanctions economy
inflation currency budget parliament coalition opposition protest court ruling
military army navy drone missile strike refugees aid humanitarian crisis
negotiations agreement treaty summit trade exports imports grain oil gas energy
pipeline port harbour shipping corridor security police reform constitution vote
campaign poll voters party leader prime officials diplomats embassy envoy
spokesman ministry defence foreign interior finance central bank interest rates
debt bonds markets investors companies workers union strike wages prices food
water drought flood climate emissions coal nuclear reactor uranium inspectors
agency report analysts researchers survey data figures percent million billion
region province capital city villages rural coast island river mountains desert
frontier checkpoint convoy shelling offensive withdrawal troops forces militia
rebels insurgents hostages prisoners exchange amnesty justice corruption
investigation prosecutors judges journalists media broadcaster newspaper
censorship internet platform social posts online technology chips factories
infrastructure railway highway airport bridge construction loans investment
development poverty schools hospitals doctors vaccine outbreak health census
migration asylum visa citizens residents families children students teachers
history memory war peace alliance partners neighbours rivals influence power
strategy policy decision crackdown dissent freedom rights women minority
language religion clerics church mosque temple ethnic identity nationalism
sovereignty territory dispute maritime fishing fleet patrol satellite weapons
arms deal contracts tender auction privatisation shares profits losses
recession growth recovery tourism harvest farmers fertiliser cattle wheat rice
""".split()  # noqa: SIM905 (a word list reads better as text)

PLACES = """
Jakarta Manila Kyiv Ankara Tehran Riyadh Beijing Taipei Seoul Tokyo Islamabad
Kabul Baghdad Damascus Beirut Cairo Khartoum Nairobi Lagos Brussels Berlin Paris
Warsaw Budapest Belgrade Tbilisi Yerevan Baku Almaty Tashkent Hanoi Bangkok
Canberra Wellington Brasília Bogotá Caracas Lima Santiago Quito Ottawa Havana
Dhaka Colombo Kathmandu Yangon Phnom-Penh Ulaanbaatar Doha Muscat Amman Tunis
Algiers Rabat Dakar Accra Kinshasa Luanda Harare Lusaka Maputo Asmara Mogadishu
Sana'a Kraków Gdańsk Tallinn Riga Vilnius Chișinău Bucharest Sofia Skopje
Tirana Pristina Sarajevo Zagreb Ljubljana Bratislava Prague Vienna Rome Madrid
Lisbon Reykjavík Oslo Stockholm Helsinki Copenhagen Dublin Edinburgh
""".split()  # noqa: SIM905 (a word list reads better as text)

REGIONS = [
    "Asia",
    "Europe",
    "the Gulf",
    "the Sahel",
    "the Balkans",
    "the Caucasus",
    "Central Asia",
    "the Pacific",
    "Latin America",
    "the Horn of Africa",
    "the Black Sea",
    "the Baltic",
    "South-East Asia",
    "the Andes",
]

SUBJECTS = [
    "central bank",
    "opposition",
    "coalition talks",
    "grain exports",
    "drone strikes",
    "election commission",
    "fishing fleet",
    "port deal",
    "currency crisis",
    "border crossing",
    "refugee camps",
    "press freedom",
    "energy subsidies",
    "nuclear talks",
    "ceasefire",
    "aid convoy",
    "arms deal",
    "railway project",
    "water dispute",
    "student protests",
    "army reshuffle",
    "debt talks",
    "gas pipeline",
    "mining licence",
    "constitutional court",
    "new cabinet",
    "rice harvest",
    "satellite launch",
    "prisoner exchange",
    "media law",
]

VERBS = [
    "weighs",
    "rejects",
    "backs",
    "delays",
    "revives",
    "tightens",
    "eases",
    "defends",
    "quietly drops",
    "bets on",
    "turns to",
    "struggles with",
    "doubles down on",
    "rethinks",
]

OBJECTS = [
    "new limits on exports",
    "a deal with its neighbours",
    "emergency spending",
    "talks with the rebels",
    "a cap on food prices",
    "foreign investment rules",
    "an early election",
    "a security pact",
    "its nuclear programme",
    "the IMF's terms",
    "a ban on protests",
    "its shipping corridor",
    "reforms to the police",
    "a new currency regime",
]

TITLE_TEMPLATES = [
    "{place} {verb} {obj}",
    "Why the {subject} in {place} matters for {region}",
    "{Subject} in {place}: what comes next",
    "Inside {place}'s {subject}",
    "What the {subject} means for {region}",
    "The {subject} that could reshape {region}",
    "{place} and {place2}: the {subject} nobody expected",
    "How {place} {verb} {obj}",
    "After the {subject}, {place} {verb} {obj}",
    "Is {place}'s {subject} a turning point?",
]

FIRST_NAMES = """
Amira Anton Beatriz Chen Dmitri Elif Farah Gavriil Hana Ibrahim Ines Jun Kavya Lars
Leila Mateo Mei Nadia Nikolai Olga Omar Priya Rafael Sana Sofia Tariq Yara Zainab
Aleksander Bilal Camila Daniel Esther Fatima George Hiroshi Isabel Javier Kemal Lucia
""".split()  # noqa: SIM905 (a word list reads better as text)

LAST_NAMES = """
Abbasi Alvarez Bakr Chowdhury Dimitrov Eriksen Fernandes Grigorov Haddad Ivanova
Jansen Kaur Lindqvist Mendoza Nakamura Okafor Petrova Quispe Rahman Santos Tanaka
Umarov Vargas Wójcik Xu Yilmaz Zhou Novak Kowalski Horvat Mwangi Ochieng Nguyen
Tran Suzuki Park Kim Costa Rossi Moreau
""".split()  # noqa: SIM905 (a word list reads better as text)

ROLES = [
    "Correspondent",
    "Senior Editor",
    "Contributing Analyst",
    "Staff Writer",
    "Columnist",
    "Regional Editor",
    "Data Reporter",
    "Photographer",
]

AGENCIES = ["Reuters", "AFP", "AP", "TASS", "EPA", "Getty Images", "Anadolu", "Xinhua"]
SOURCES = ["", "", "via Shutterstock", "via Wikimedia Commons", "via Alamy"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "post.example"]

SYLLABLES = """
ka ro ta mi ne su va lo re di an el or in ul ba te ri mo sa ve la po ni zu
ar ek ol im us tra ster mon der gal vin bor cel pha lis quen dor mar sel
""".split()  # noqa: SIM905 (a word list reads better as text)


def rng_for(seed, kind, index):
    """An independent generator for one item: stable across runs and batch sizes."""
    return random.Random(f"{seed}:{kind}:{index}")


class Vocabulary:
    """Words with Zipf-like frequencies for sentences, deks and bodies."""

    def __init__(self, seed=1, made_up=4000):
        generator = random.Random(f"{seed}:vocabulary")
        invented = set()
        while len(invented) < made_up:
            word = "".join(generator.choices(SYLLABLES, k=generator.choice((2, 2, 3, 3, 4))))
            invented.add(word)
        content = NEWS_WORDS + [place for place in PLACES if "-" not in place]
        tail = sorted(invented)
        generator.shuffle(content)
        generator.shuffle(tail)
        # Content words and invented words interleave after the function words.
        self.words = FUNCTION_WORDS + [
            word
            for pair in itertools.zip_longest(content, tail[: len(content)])
            for word in pair
            if word
        ]
        self.words += tail[len(content) :]
        self.cum_weights = list(
            itertools.accumulate(1 / (rank + 1) ** 1.07 for rank in range(len(self.words)))
        )

    def sample(self, rng, count):
        return rng.choices(self.words, cum_weights=self.cum_weights, k=count)

    def sentence(self, rng, words=None):
        count = words or rng.randint(9, 26)
        chosen = self.sample(rng, count)
        if count > 14 and rng.random() < 0.5:
            chosen[rng.randint(4, count - 5)] += ","
        if rng.random() < 0.3:
            chosen[rng.randrange(count)] = rng.choice(PLACES)
        text = " ".join(chosen)
        return text[0].upper() + text[1:] + "."


class ContentGenerator:
    """Titles, deks, bodies, names and emails for seed_bulk."""

    def __init__(self, seed=1):
        self.seed = seed

    @cached_property
    def vocabulary(self):
        return Vocabulary(self.seed)

    def title(self, rng):
        place, place2 = rng.sample(PLACES, 2)
        subject = rng.choice(SUBJECTS)
        title = rng.choice(TITLE_TEMPLATES).format(
            place=place.replace("-", " "),
            place2=place2.replace("-", " "),
            verb=rng.choice(VERBS),
            obj=rng.choice(OBJECTS),
            subject=subject,
            Subject=subject[0].upper() + subject[1:],
            region=rng.choice(REGIONS),
        )
        return title[0].upper() + title[1:]

    def dek(self, rng):
        return self.vocabulary.sentence(rng, words=rng.randint(14, 28))

    def body(self, rng, *, words, inline_image=None, link_index=0):
        """About `words` words of HTML that the article sanitiser accepts as it is.

        Paragraphs with an occasional h2, blockquote, list and outbound link; one
        inline figure when `inline_image` (id, url, width, height, alt, caption) is given.
        """
        vocabulary = self.vocabulary
        parts = []
        written = 0
        paragraph_number = 0
        while written < words:
            paragraph_number += 1
            if paragraph_number % 6 == 0:
                parts.append(f"<h2>{vocabulary.sentence(rng, words=rng.randint(3, 7))[:-1]}</h2>")
            roll = rng.random()
            if roll < 0.05:
                quote = vocabulary.sentence(rng, words=rng.randint(12, 30))
                parts.append(f"<blockquote><p>{quote}</p></blockquote>")
                written += quote.count(" ") + 1
                continue
            if roll < 0.09:
                items = [vocabulary.sentence(rng, words=rng.randint(5, 12)) for _ in range(4)]
                parts.append("<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>")
                written += sum(item.count(" ") + 1 for item in items)
                continue
            sentences = [vocabulary.sentence(rng) for _ in range(rng.randint(2, 5))]
            if rng.random() < 0.08:
                anchor = " ".join(vocabulary.sample(rng, 3))
                sentences.append(
                    f'See <a href="https://www.example.org/reports/{link_index}-{paragraph_number}">'
                    f"{anchor}</a>."
                )
            text = " ".join(sentences)
            parts.append(f"<p>{text}</p>")
            written += text.count(" ") + 1
            if inline_image and paragraph_number == 3:
                image_id, url, width, height, alt, caption = inline_image
                parts.append(
                    f'<figure data-image-id="{image_id}"><img src="{url}" alt="{alt}" '
                    f'width="{width}" height="{height}" data-image-id="{image_id}">'
                    f"<figcaption>{caption}</figcaption></figure>"
                )
        return "".join(parts)

    @staticmethod
    def author_name(index):
        """Distinct names for indexes up to len(FIRST_NAMES) * len(LAST_NAMES)."""
        first = FIRST_NAMES[index % len(FIRST_NAMES)]
        last = LAST_NAMES[(index // len(FIRST_NAMES) + index) % len(LAST_NAMES)]
        return f"{first} {last}"

    def tag_names(self, count):
        """`count` distinct tag names: places, subjects, and word pairs after those."""
        names = []
        seen = set()

        def add(name):
            if name.lower() not in seen:
                seen.add(name.lower())
                names.append(name)

        for name in [place.replace("-", " ") for place in PLACES] + SUBJECTS + REGIONS:
            add(name)
        content = NEWS_WORDS
        for first, second in itertools.product(content, content):
            if len(names) >= count:
                break
            if first != second:
                add(f"{first} {second}")
        return names[:count]

    @staticmethod
    def photo_credit(rng):
        photographer = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        return f"{photographer}/{rng.choice(AGENCIES)}", rng.choice(SOURCES)

    @staticmethod
    def email(index):
        first = FIRST_NAMES[index % len(FIRST_NAMES)].lower()
        last = LAST_NAMES[(index // 7) % len(LAST_NAMES)].lower()
        last = last.translate(str.maketrans("óńś", "ons"))
        return f"{first}.{last}.{index}@{DOMAINS[index % len(DOMAINS)]}"
