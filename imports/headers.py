"""What a column's header says it holds, in the languages contact files come in.

One table, HEADER_WORDS: for each role (a mobile number, any phone number, a
first, last or full name) the headers that mean it in English, German, French,
Spanish, Portuguese, Italian, Dutch and Polish. Headers are compared squashed:
case, accents, spaces and punctuation ignored, so "Teléfono móvil",
"telefono-movil" and "TELEFONO MOVIL" are one header.

A header not in the table is still a phone column when one of its words is
(PHONE_WORDS, MOBILE_WORDS): Outlook's "Business Phone 2", HubSpot's "Mobile
Phone Number", Google's "Phone 1 - Value". Words such as fax or label rule a
header out ("Business Fax", Google's "Phone 1 - Label").
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Role(StrEnum):
    MOBILE = "mobile"  # a phone column whose header says mobile: tried first
    PHONE = "phone"
    # A bare "Number" or "No.": a phone column only when the file has no other.
    NUMBER = "number"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    FULL_NAME = "full_name"
    # "Name", "Nom", "Nome", "Nombre", "Naam": the full name alone; beside a first-name column the last name
    # (German Vorname;Name, French Prénom;Nom), beside a last-name column the first name (Nombre;Apellidos).
    SOME_NAME = "some_name"


HEADER_WORDS: dict[Role, dict[str, tuple[str, ...]]] = {
    Role.MOBILE: {
        "en": ("mobile", "mobile phone", "mobile number", "mobile phone number", "mobile no", "cell", "cell phone",
               "cell number", "cellular", "msisdn", "whatsapp", "whatsapp number"),
        "de": ("Handy", "Handynummer", "Mobil", "Mobilnummer", "Mobiltelefon", "Mobilfunknummer", "Telefon mobil"),
        "fr": ("portable", "téléphone portable", "tél. portable", "numéro de portable", "téléphone mobile", "GSM"),
        "es": ("móvil", "teléfono móvil", "número de móvil", "celular", "teléfono celular", "número de celular"),
        "pt": ("celular", "telemóvel", "número de telemóvel", "número de celular", "telefone celular", "móvel",
               "telefone móvel"),
        "it": ("cellulare", "telefono cellulare", "numero di cellulare", "cell.", "telefonino"),
        "nl": ("mobiel", "mobiel nummer", "mobiele telefoon", "mobiel telefoonnummer", "GSM-nummer"),
        "pl": ("komórka", "telefon komórkowy", "numer komórki", "nr komórki", "numer komórkowy"),
    },
    Role.PHONE: {
        "en": ("phone", "phone number", "phone no", "telephone", "telephone number", "tel", "contact number"),
        "de": ("Telefon", "Telefonnummer", "Tel.", "Rufnummer", "Festnetz"),
        "fr": ("téléphone", "tél.", "numéro de téléphone", "no de téléphone"),
        "es": ("teléfono", "número de teléfono", "tel.", "tfno."),
        "pt": ("telefone", "número de telefone", "fone", "tel."),
        "it": ("telefono", "numero di telefono", "tel."),
        "nl": ("telefoon", "telefoonnummer", "tel.", "tel.nr."),
        "pl": ("telefon", "numer telefonu", "nr telefonu", "nr tel."),
    },
    Role.NUMBER: {
        "en": ("number", "no."),
        "de": ("Nummer", "Nr."),
        "fr": ("numéro", "nº"),
        "es": ("número",),
        "pt": ("número",),
        "it": ("numero",),
        "nl": ("nummer",),
        "pl": ("numer",),
    },
    Role.FIRST_NAME: {
        "en": ("first name", "given name", "forename", "first"),
        "de": ("Vorname",),
        "fr": ("prénom",),
        "es": ("primer nombre", "nombre de pila"),
        "pt": ("primeiro nome", "nome próprio"),
        "it": ("nome di battesimo",),
        "nl": ("voornaam",),
        "pl": ("imię",),
    },
    Role.LAST_NAME: {
        "en": ("last name", "surname", "family name", "last"),
        "de": ("Nachname", "Familienname"),
        "fr": ("nom de famille",),
        "es": ("apellido", "apellidos", "primer apellido"),
        "pt": ("sobrenome", "apelido", "último nome"),
        "it": ("cognome",),
        "nl": ("achternaam",),
        "pl": ("nazwisko",),
    },
    Role.FULL_NAME: {
        "en": ("full name", "contact name", "customer name", "display name"),
        "de": ("vollständiger Name", "Kontaktname"),
        "fr": ("nom complet", "nom et prénom", "prénom et nom"),
        "es": ("nombre completo", "nombre y apellidos"),
        "pt": ("nome completo",),
        "it": ("nome completo", "nome e cognome"),
        "nl": ("volledige naam",),
        "pl": ("imię i nazwisko",),
    },
    Role.SOME_NAME: {
        "en": ("name",),
        "de": ("Name",),
        "fr": ("nom",),
        "es": ("nombre",),
        "pt": ("nome",),
        "it": ("nome",),
        "nl": ("naam",),
    },
}  # fmt: skip

# Words that make a longer header a phone column, and those that make it a mobile one.
PHONE_WORDS = frozenset({"phone", "telephone", "tel", "telefon", "telefono", "telefone", "telefoon"})
MOBILE_WORDS = frozenset(
    {"mobile", "mobil", "cell", "cellular", "cellphone", "handy", "movil", "celular", "telemovel", "movel",
     "portable", "cellulare", "mobiel", "gsm", "komorka", "komorkowy", "msisdn", "whatsapp"}
)  # fmt: skip
# Words that rule a header out as a phone column: other kinds of number, and the label beside a value.
NOT_PHONE_WORDS = frozenset(
    {"fax", "pager", "telex", "isdn", "tty", "tdd", "label", "type", "assistant", "order", "id", "extension", "ext"}
)


def normalise_key(header: str) -> str:
    """`Order No.` -> `order_no`, `Prénom` -> `prenom`, `Größe` -> `grosse`, `Имя` -> `имя`.

    Lower case, accents folded, every run of other characters one underscore.
    Letters without an ASCII form stay as they are, so no alphabet loses its names.
    """
    decomposed = unicodedata.normalize("NFKD", header.casefold())
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\W_]+", "_", folded).strip("_")


def squash(header: str) -> str:
    """`Teléfono móvil` -> `telefonomovil`: what headers are compared by."""
    return normalise_key(header).replace("_", "")


def _by_squashed() -> dict[str, Role]:
    roles: dict[str, Role] = {}
    for role, languages in HEADER_WORDS.items():
        for words in languages.values():
            for word in words:
                roles.setdefault(squash(word), role)  # the first role a word is listed under is its meaning
    return roles


ROLE_OF = _by_squashed()


def role_of(header: str, *, alone: bool = False) -> Role | None:
    """What a header says its column holds, or None for any other column (a variable).

    alone: the header is the only text on its line; only an exact phone header counts
    then, so a title line such as "Phone list, November" is not taken for a header.
    """
    role = ROLE_OF.get(squash(header))
    if role is not None or alone:
        return role
    words = set(normalise_key(header).split("_"))
    if words & NOT_PHONE_WORDS:
        return None
    if words & MOBILE_WORDS:
        return Role.MOBILE
    if words & PHONE_WORDS:
        return Role.PHONE
    return None


def is_mobile_label(label: str) -> bool:
    """Google's `Phone 1 - Label` values: "Mobile", "* Mobile" (the primary one), "Handy", ..."""
    words = set(normalise_key(label).split("_"))
    return ROLE_OF.get(squash(label)) is Role.MOBILE or bool(words & MOBILE_WORDS)


GOOGLE_VALUE = re.compile(r"^phone_(\d+)_value$")


def google_label_of(header: str) -> str | None:
    """`Phone 1 - Value` -> the key of its label column, `phone_1_label`; None for any other header."""
    found = GOOGLE_VALUE.match(normalise_key(header))
    return f"phone_{found.group(1)}_label" if found else None
