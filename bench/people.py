"""Made-up customers for the lookup benchmark, as a shop in the Philippines might have.

Filipino, English, Dutch and Chinese names drawn with a long tail (a few names are very
common, most are rare), some with accents (José, Zoë, Peña) or tussenvoegsels ("van
der", "de"); mobile numbers valid for their region, in E.164; e-mail addresses. Every
customer code, phone number, e-mail address and card token is distinct.

Everything is derived from the index and one seeded random generator, so two runs (and
the two engines of one run) get the same people. This module needs no Django: it is
run once, in the parent process, and the engines' processes inherit the result.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import phonenumbers

from bench.seed import customer_code
from prepaid.lib.phones import searchable_digits
from prepaid.lib.text import fold, name_keys

CODE_SPACE = 31**8  # customer codes: 8 characters of a 31-letter alphabet
CODE_STEP = 1_000_003  # coprime with 31: index → code is a bijection
MAIL_SPACE = 10**7  # e-mail serials: a bijection of 0..10^7-1, so at most 10M customers
MAIL_STEP = 7_919
PHONE_STEP = 7_654_321  # coprime with 10: serial → subscriber digits is a bijection
PREFIXES_PER_REGION = 12
PHONE_SHARE = 0.92
EMAIL_SHARE = 0.75


def _names(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


# Each list is ordered from common to rare: weights fall off with the rank.
FILIPINO_GIVEN = _names(
    "Maria, Jose, Juan, Ana, Mark, Grace, John Paul, Mary Grace, Jocelyn, Rowena, Ramon,"
    " Liza, Paolo, Cristina, Rodel, Jerome, Marites, Angelica, Joy, Jonathan, Michelle,"
    " Arnel, Rachelle, Nestor, Lorna, Bong, Dindo, Maricel, Rommel, Divina, Erlinda,"
    " Teresita, Romeo, Eduardo, Emmanuel, Kristine, Jennifer, Jay-R, Camille, Czarina,"
    " José, Niño, Josefina, Ma. Luisa, Ángel, Reynaldo, Florante, Imelda, Ligaya, Dalisay"
)
FILIPINO_FAMILY = _names(
    "Santos, Reyes, Cruz, Bautista, Ocampo, Garcia, Mendoza, Dela Cruz, Torres, Tomas,"
    " Andrada, Castillo, Flores, Villanueva, Ramos, Castro, Rivera, Aquino, Navarro,"
    " Salazar, Mercado, Dizon, Manalo, Pascual, Santiago, Soriano, Aguilar, Tolentino,"
    " De Leon, Del Rosario, Dela Peña, Gonzales, Fernandez, Lopez, Valdez, Domingo,"
    " Peña, Muñoz, Ibáñez, Patiño, Macaraeg, Magbanua, Dimaculangan, Pangilinan,"
    " Batungbakal, Sison, Lacson, Panganiban, Marcelo, Evangelista"
)
ENGLISH_GIVEN = _names(
    "James, Mary, John, Patricia, Robert, Jennifer, Michael, Linda, William, Elizabeth,"
    " David, Barbara, Richard, Susan, Joseph, Jessica, Thomas, Sarah, Charles, Karen,"
    " Christopher, Emily, Daniel, Olivia, Matthew, Amelia, Anthony, Isla, George, Ava,"
    " Oliver, Grace, Harry, Sophie, Jack, Chloé, Zoë, Renée, Noémie, Béatrice, Joël,"
    " Penelope, Nathaniel, Imogen, Rupert, Hamish, Florence, Beatrix, Tobias, Clementine"
)
ENGLISH_FAMILY = _names(
    "Smith, Johnson, Williams, Brown, Jones, Miller, Davis, Wilson, Anderson, Taylor,"
    " Thomas, Moore, Martin, Jackson, Thompson, White, Harris, Clark, Lewis, Robinson,"
    " Walker, Young, Allen, King, Wright, Scott, Hill, Green, Adams, Baker, Nelson,"
    " Carter, Mitchell, Roberts, Turner, Phillips, Campbell, Parker, Evans, Edwards,"
    " Collins, Stewart, Morris, Murphy, Cook, Rogers, Morgan, Cooper, Peterson, Bailey,"
    " O'Brien, O'Connor, McAllister, Fitzgerald, Featherstonehaugh, Brontë, Desrosiers"
)
DUTCH_GIVEN = _names(
    "Jan, Pieter, Sanne, Lotte, Daan, Sem, Emma, Julia, Lucas, Levi, Anouk, Femke, Bram,"
    " Thijs, Ruben, Noor, Fleur, Joost, Maarten, Willem, Eline, Sophie, Lieke, Jeroen,"
    " Kees, Henk, Ingrid, Marloes, Daniëlle, Zoë, Noëlle, Joëlle, Anaïs, Loïs, Chloë,"
    " Gerrit, Hendrik, Wouter, Sjoerd, Tjitske, Geertruida, Marijke, Rutger, IJsbrand"
)
DUTCH_FAMILY = _names(
    "de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit,"
    " Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker,"
    " Brouwer, de Wit, Dijkstra, Smits, de Graaf, van der Meer, van der Linden, Kok,"
    " Jacobs, de Haan, Vermeulen, van den Heuvel, van der Veen, van den Broek, de Bruijn,"
    " van der Heijden, Schouten, van Beek, Willems, van Vliet, van de Ven, Hoekstra,"
    " Maas, Verhoeven, Koster, van Dam, van der Wal, Prins, Blom, Huisman, 't Hart,"
    " ter Horst, van 't Hof, Çelik, Oosterhuis, Nieuwenhuizen"
)
# (characters, pinyin): surnames, then given names of one and of two characters.
CHINESE_FAMILY = (
    *zip(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗",
        [
            "wang",
            "li",
            "zhang",
            "liu",
            "chen",
            "yang",
            "huang",
            "zhao",
            "wu",
            "zhou",
            "xu",
            "sun",
            "ma",
            "zhu",
            "hu",
            "guo",
            "he",
            "gao",
            "lin",
            "luo",
        ],
        strict=True,
    ),
)
CHINESE_COMPOUND = (("欧阳", "ouyang"), ("司马", "sima"), ("诸葛", "zhuge"), ("上官", "shangguan"))
CHINESE_GIVEN_1 = (
    *zip(
        "芳伟娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂",
        [
            "fang",
            "wei",
            "na",
            "min",
            "jing",
            "li",
            "qiang",
            "lei",
            "jun",
            "yang",
            "yong",
            "yan",
            "jie",
            "juan",
            "tao",
            "ming",
            "chao",
            "xiu",
            "xia",
            "ping",
            "gang",
            "gui",
        ],
        strict=True,
    ),
)
CHINESE_GIVEN_2 = (
    ("秀英", "xiuying"), ("建华", "jianhua"), ("志强", "zhiqiang"), ("海燕", "haiyan"),
    ("晓明", "xiaoming"), ("丽娟", "lijuan"), ("子涵", "zihan"), ("浩然", "haoran"),
    ("欣怡", "xinyi"), ("梓萱", "zixuan"), ("俊杰", "junjie"), ("雨桐", "yutong"),
    ("芳芳", "fangfang"), ("娜娜", "nana"), ("伟民", "weimin"), ("明辉", "minghui"),
)  # fmt: skip

DOMAINS = {
    "ph": ("gmail.com", "yahoo.com", "yahoo.com.ph", "outlook.com", "ymail.com"),
    "en": ("gmail.com", "outlook.com", "hotmail.co.uk", "icloud.com", "yahoo.com"),
    "nl": ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "outlook.com"),
    "zh": ("qq.com", "163.com", "126.com", "gmail.com", "sina.com"),
}
# Culture: (share of customers, phone regions with their shares).
CULTURES = {
    "ph": (0.40, (("PH", 0.95), ("US", 0.05))),
    "en": (0.20, (("GB", 0.5), ("US", 0.3), ("PH", 0.2))),
    "nl": (0.20, (("NL", 0.8), ("PH", 0.2))),
    "zh": (0.20, (("CN", 0.6), ("PH", 0.4))),
}


@dataclass(frozen=True)
class Numbering:
    """Mobile numbers of one region: country code, trunk prefix, prefixes, width."""

    region: str
    country: str  # "63"
    trunk: str  # national digits before the national number: "0" in PH, "" in CN
    prefixes: tuple[str, ...]  # leading digits of the national number
    free: int  # digits after the prefix
    mobile: re.Pattern[str]  # the region's valid mobile numbers (libphonenumber's own)

    def number(self, serial: int) -> tuple[str, str] | None:
        """The ``serial``-th number: (E.164, what ``searchable_digits`` makes of it), or
        None if it is not valid (a few ranges are reserved, e.g. for TV drama)."""
        prefix = self.prefixes[serial % len(self.prefixes)]
        rest = (serial // len(self.prefixes) * PHONE_STEP + 1_234) % 10**self.free
        national = f"{prefix}{rest:0{self.free}d}"
        if not self.mobile.fullmatch(national):
            return None
        return f"+{self.country}{national}", f"{self.country}{national} {self.trunk}{national}"


def _valid(country: int, national: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(f"+{country}{national}"))


def _all_valid(country: int, prefix: str, width: int, rng: random.Random, tries: int) -> bool:
    free = width - len(prefix)
    return all(
        _valid(country, prefix + f"{rng.randrange(10**free):0{free}d}") for _ in range(tries)
    )


def numbering(region: str, rng: random.Random) -> Numbering:
    """Prefixes after which any digits make a valid mobile number, found from the
    region's example number: its shortest such prefix, then others of that length."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    country, national = example.country_code, phonenumbers.national_significant_number(example)
    width = len(national)
    size = next(n for n in range(1, width) if _all_valid(country, national[:n], width, rng, 200))
    candidates = [f"{national[0]}{n:0{size - 1}d}" for n in range(10 ** (size - 1))]
    rng.shuffle(candidates)
    prefixes = [national[:size]]
    for prefix in candidates:
        if len(prefixes) == PREFIXES_PER_REGION:
            break
        if prefix not in prefixes and _all_valid(country, prefix, width, rng, 40):
            prefixes.append(prefix)
    e164 = f"+{country}{national}"
    trunk = searchable_digits(e164, region).split()[1].removesuffix(national)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    mobile = re.compile(f"(?:{metadata.mobile.national_number_pattern})")
    return Numbering(region, str(country), trunk, tuple(prefixes), width - len(prefixes[0]), mobile)


class Picker:
    """Choices from a list ordered common to rare (weight 1 / rank^0.9)."""

    def __init__(self, items: Sequence[object]) -> None:
        self.items = list(items)
        self.cumulative = list(
            itertools.accumulate(1 / (rank + 1) ** 0.9 for rank in range(len(items)))
        )

    def __call__(self, rng: random.Random) -> object:
        return rng.choices(self.items, cum_weights=self.cumulative)[0]


@dataclass
class Population:
    """The customers as columns, index for index (a million rows fit in memory)."""

    names: list[str] = field(default_factory=list)
    search_names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)  # E.164, or "" for none
    search_phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)  # or "" for none
    codes: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    keys: list[tuple[str, ...]] = field(default_factory=list)  # NameKey rows
    cultures: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.names)

    def where(self, wanted: str) -> list[int]:
        """Indexes of customers with a phone, an e-mail, or an accented, Chinese or Western name."""
        tests = {
            "phone": lambda i: bool(self.phones[i]),
            "email": lambda i: bool(self.emails[i]),
            "accented": lambda i: self.names[i].casefold() != self.search_names[i],
            "chinese": lambda i: self.cultures[i] == "zh",
            "western": lambda i: self.cultures[i] != "zh",
        }
        test = tests[wanted]
        return [i for i in range(len(self)) if test(i)]


@functools.cache
def _ascii(text: str) -> str:
    """Letters and digits of ``text``, folded: what goes into an e-mail address."""
    return "".join(ch for ch in fold(text) if ch.isascii() and ch.isalnum())


def card_token(seed: int, index: int) -> str:
    """A distinct, URL-safe 24-character token, as ``lib.codes.new_token`` makes."""
    digest = hashlib.blake2b(f"card:{seed}:{index}".encode(), digest_size=18).digest()
    return base64.urlsafe_b64encode(digest).decode()


class Maker:
    """Makes one customer after another from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        regions = sorted({region for _, shares in CULTURES.values() for region, _ in shares})
        self.numberings = {region: numbering(region, random.Random(seed)) for region in regions}
        self.serials = dict.fromkeys(regions, 0)
        self.given = {
            "ph": Picker(FILIPINO_GIVEN),
            "en": Picker(ENGLISH_GIVEN),
            "nl": Picker(DUTCH_GIVEN),
        }
        self.family = {
            "ph": Picker(FILIPINO_FAMILY),
            "en": Picker(ENGLISH_FAMILY),
            "nl": Picker(DUTCH_FAMILY),
        }
        self.chinese = (Picker(CHINESE_FAMILY), Picker(CHINESE_GIVEN_1), Picker(CHINESE_GIVEN_2))
        self.cultures = list(CULTURES)
        self.seen: dict[str, tuple[str, tuple[str, ...]]] = {}  # names repeat: fold once
        self.shares = [share for share, _ in CULTURES.values()]

    def folded(self, name: str) -> tuple[str, tuple[str, ...]]:
        """What ``customers.services`` stores for a name: search_name and name keys."""
        if (known := self.seen.get(name)) is None:
            folded = fold(name)[:120]
            known = self.seen[name] = (folded, tuple(sorted(name_keys(folded))))
        return known

    def western(self, culture: str) -> tuple[str, str, str]:
        """(name, given for the e-mail, family for the e-mail)."""
        rng = self.rng
        given, family = str(self.given[culture](rng)), str(self.family[culture](rng))
        full = given
        if culture == "ph" and rng.random() < 0.15:
            second = self.given[culture](rng)
            full = f"{given} {second}" if second != given else given
        elif culture == "en" and rng.random() < 0.10:
            full = f"{given} {rng.choice('ABCDEFGHJKLMNPRSTW')}."
        return f"{full} {family}", _ascii(given.split()[0]), _ascii(family)

    def han(self) -> tuple[str, str, str]:
        """A Chinese name of two or three characters, and its pinyin."""
        rng = self.rng
        surnames, single, double = self.chinese
        draw = rng.random()
        family = rng.choice(CHINESE_COMPOUND) if draw < 0.05 else surnames(rng)
        given = single(rng) if draw < 0.55 else double(rng)
        assert isinstance(family, tuple) and isinstance(given, tuple)
        return family[0] + given[0], given[1], family[1]

    def email(self, index: int, culture: str, given: str, family: str) -> str:
        serial = (index * MAIL_STEP + 12_345) % MAIL_SPACE
        local = self.rng.choice(
            (f"{given}.{family}", f"{given}{family}", f"{given[:1]}{family}", f"{family}.{given}")
        )
        return f"{local}{serial}@{self.rng.choice(DOMAINS[culture])}"

    def phone(self, culture: str) -> tuple[str, str]:
        regions, shares = zip(*CULTURES[culture][1], strict=True)
        region = self.rng.choices(regions, weights=shares)[0]
        while True:
            serial = self.serials[region]
            self.serials[region] += 1
            if made := self.numberings[region].number(serial):
                return made

    def add(self, people: Population, index: int) -> None:
        rng = self.rng
        culture = rng.choices(self.cultures, weights=self.shares)[0]
        name, given, family = self.han() if culture == "zh" else self.western(culture)
        phone, digits = self.phone(culture) if rng.random() < PHONE_SHARE else ("", "")
        email = self.email(index, culture, given, family) if rng.random() < EMAIL_SHARE else ""
        folded, keys = self.folded(name)
        people.names.append(name)
        people.search_names.append(folded)
        people.phones.append(phone)
        people.search_phones.append(digits)
        people.emails.append(email)
        people.codes.append(customer_code(index * CODE_STEP % CODE_SPACE))
        people.tokens.append(card_token(self.seed, index))
        people.keys.append(keys)
        people.cultures.append(culture)


def generate(count: int, seed: int) -> Population:
    """``count`` customers, the same for the same seed; checked before they are used."""
    if count > MAIL_SPACE:
        raise ValueError(f"at most {MAIL_SPACE:,} customers")
    maker = Maker(seed)
    people = Population()
    for index in range(count):
        maker.add(people, index)
    check(people, random.Random(seed))
    return people


def check(people: Population, rng: random.Random, sample: int = 2_000) -> None:
    """What ``customers.services`` would store, on a sample; every identifier distinct."""
    for index in rng.sample(range(len(people)), min(sample, len(people))):
        phone = people.phones[index]
        if phone:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone)), phone
            assert people.search_phones[index] == searchable_digits(phone, "PH"), phone
        assert people.search_names[index] == fold(people.names[index])[:120]
        assert set(people.keys[index]) == name_keys(people.search_names[index])
    for column in (people.phones, people.emails):
        present = [value for value in column if value]
        assert len(set(present)) == len(present), "duplicate phone or e-mail"
    for column in (people.codes, people.tokens):
        assert len(set(column)) == len(column), "duplicate code or token"
