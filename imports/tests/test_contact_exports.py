"""Contact files as address books and CRMs export them: Google Contacts, HubSpot, Outlook, and
spreadsheets headed in eight languages. Each file is built from its format's documented header."""

from __future__ import annotations

import csv
import io

import pytest

from imports.models import ImportJob

# Google Contacts, "Export > Google CSV" (the format since 2024): the fixed columns, then a Label/Value pair
# per e-mail, phone and address, as many as the contact with the most has.
# Source: the header of a file exported from contacts.google.com (Export > Google CSV).
GOOGLE_HEADER = [
    "First Name", "Middle Name", "Last Name", "Phonetic First Name", "Phonetic Middle Name", "Phonetic Last Name",
    "Name Prefix", "Name Suffix", "Nickname", "File As", "Organization Name", "Organization Title",
    "Organization Department", "Birthday", "Notes", "Photo", "Labels",
    "E-mail 1 - Label", "E-mail 1 - Value", "E-mail 2 - Label", "E-mail 2 - Value",
    "Phone 1 - Label", "Phone 1 - Value", "Phone 2 - Label", "Phone 2 - Value", "Phone 3 - Label", "Phone 3 - Value",
    "Address 1 - Label", "Address 1 - Formatted", "Address 1 - Street", "Address 1 - City", "Address 1 - PO Box",
    "Address 1 - Region", "Address 1 - Postal Code", "Address 1 - Country", "Address 1 - Extended Address",
]  # fmt: skip

# HubSpot, "Contacts > Export" with the default properties' labels as column names.
# Source: HubSpot's default contact properties (https://knowledge.hubspot.com/properties/hubspots-default-contact-properties).
HUBSPOT_HEADER = [
    "Record ID", "First Name", "Last Name", "Email", "Phone Number", "Mobile Phone Number", "Company Name",
    "Contact owner", "Lifecycle Stage", "Lead Status", "Create Date",
]  # fmt: skip

# Outlook, "File > Open & Export > Export to a file > Comma Separated Values": 92 columns, every cell quoted.
# Source: Microsoft, "Create or edit .csv files to import into Outlook" (https://support.microsoft.com/en-us/office/
# create-or-edit-csv-files-to-import-into-outlook-4518d70d-8fe9-46ad-94fa-1494247193c7).
OUTLOOK_HEADER = [
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title",
    "Business Street", "Business Street 2", "Business Street 3", "Business City", "Business State",
    "Business Postal Code", "Business Country/Region", "Home Street", "Home Street 2", "Home Street 3", "Home City",
    "Home State", "Home Postal Code", "Home Country/Region", "Other Street", "Other Street 2", "Other Street 3",
    "Other City", "Other State", "Other Postal Code", "Other Country/Region", "Assistant's Phone", "Business Fax",
    "Business Phone", "Business Phone 2", "Callback", "Car Phone", "Company Main Phone", "Home Fax", "Home Phone",
    "Home Phone 2", "ISDN", "Mobile Phone", "Other Fax", "Other Phone", "Pager", "Primary Phone", "Radio Phone",
    "TTY/TDD Phone", "Telex", "Account", "Anniversary", "Assistant's Name", "Billing Information", "Birthday",
    "Business Address PO Box", "Categories", "Children", "Directory Server", "E-mail Address", "E-mail Type",
    "E-mail Display Name", "E-mail 2 Address", "E-mail 2 Type", "E-mail 2 Display Name", "E-mail 3 Address",
    "E-mail 3 Type", "E-mail 3 Display Name", "Gender", "Government ID Number", "Hobby", "Home Address PO Box",
    "Initials", "Internet Free Busy", "Keywords", "Language", "Location", "Manager's Name", "Mileage", "Notes",
    "Office Location", "Organizational ID Number", "Other Address PO Box", "Priority", "Private", "Profession",
    "Referred By", "Sensitivity", "Spouse", "User 1", "User 2", "User 3", "User 4", "Web Page",
]  # fmt: skip
# Outlook's columns that hold a number to text, mobile first: not its faxes, pager, telex, ISDN, TTY/TDD,
# callback or assistant's phone.
OUTLOOK_PHONES = [
    "Mobile Phone", "Business Phone", "Business Phone 2", "Car Phone", "Company Main Phone", "Home Phone",
    "Home Phone 2", "Other Phone", "Primary Phone", "Radio Phone",
]  # fmt: skip


def export(header: list[str], rows: list[dict[str, str]], *, quoting: int = csv.QUOTE_MINIMAL) -> str:
    """A CSV as the exporter writes it: the full header, every row with empty cells where it has nothing."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, restval="", quoting=quoting, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


# --- Google Contacts ------------------------------------------------------------------------------------------


def google_row(first: str, last: str, *phones: tuple[str, str]) -> dict[str, str]:
    row = {"First Name": first, "Last Name": last, "Labels": "* myContacts"}
    for n, (label, value) in enumerate(phones, start=1):
        row[f"Phone {n} - Label"] = label
        row[f"Phone {n} - Value"] = value
    return row


def test_google_a_mobile_labelled_number_is_taken_over_a_work_one_in_an_earlier_pair(run_import):
    # Both are mobile numbers: only the labels tell which one is the person's own mobile.
    job = run_import(
        export(GOOGLE_HEADER, [google_row("Ann", "Lee", ("Work", "07911 123456"), ("* Mobile", "07400 123456"))])
    )

    contact = job.contacts.get()
    assert (contact.phone, contact.phone_column) == ("+447400123456", "Phone 2 - Value")


def test_google_a_cell_holding_two_numbers_yields_its_mobile(run_import):
    job = run_import(export(GOOGLE_HEADER, [google_row("Ann", "Lee", ("Home", "0161 496 0000 ::: 07400 123456"))]))

    contact = job.contacts.get()
    assert (contact.phone, contact.line_type, contact.phone_column) == ("+447400123456", "mobile", "Phone 1 - Value")


def test_google_each_contact_records_the_value_column_its_number_came_from(run_import):
    rows = [
        google_row("Ann", "Lee", ("Mobile", "07400 123456"), ("Work", "0161 496 0000")),
        google_row("Bob", "Hart", ("Home", "0161 496 0001"), ("Mobile", "07400 654321")),
        google_row("Cy", "Moss", ("Work", "0161 496 0002")),
    ]

    job = run_import(export(GOOGLE_HEADER, rows))

    assert list(job.contacts.order_by("row_number").values_list("phone", "phone_column")) == [
        ("+447400123456", "Phone 1 - Value"),
        ("+447400654321", "Phone 2 - Value"),
        ("+441614960002", "Phone 1 - Value"),
    ]


def test_google_the_value_columns_are_the_phone_columns_and_not_their_labels(run_import):
    job = run_import(export(GOOGLE_HEADER, [google_row("Ann", "Lee", ("Mobile", "07400 123456"))]))

    assert job.column_mapping["phone"] == ["Phone 1 - Value", "Phone 2 - Value", "Phone 3 - Value"]
    assert job.column_mapping["name"] == ["First Name", "Last Name"]


def test_google_the_name_is_the_first_and_last_name_without_the_middle_name_or_nickname(run_import):
    row = google_row("Ann", "Lee", ("Mobile", "07400 123456"))
    row.update({"Middle Name": "Marie", "Nickname": "Annie", "File As": "Lee, Ann", "Name Prefix": "Dr"})

    job = run_import(export(GOOGLE_HEADER, [row]))

    contact = job.contacts.get()
    assert contact.name == "Ann Lee"
    assert (contact.variables["middle_name"], contact.variables["nickname"]) == ("Marie", "Annie")


# --- HubSpot ----------------------------------------------------------------------------------------------------


def hubspot_row(record_id: str, first: str, last: str, phone: str = "", mobile: str = "") -> dict[str, str]:
    return {
        "Record ID": record_id,
        "First Name": first,
        "Last Name": last,
        "Email": f"{first.lower()}@example.com",
        "Phone Number": phone,
        "Mobile Phone Number": mobile,
        "Lifecycle Stage": "Lead",
        "Create Date": "2026-11-30 09:15",
    }


def test_hubspot_the_mobile_phone_number_wins_over_a_landline_in_phone_number(run_import):
    job = run_import(export(HUBSPOT_HEADER, [hubspot_row("101", "Ann", "Lee", "0161 496 0000", "07400 123456")]))

    contact = job.contacts.get()
    assert (contact.phone, contact.phone_column, contact.name) == ("+447400123456", "Mobile Phone Number", "Ann Lee")


def test_hubspot_a_row_with_only_a_mobile_phone_number_imports(run_import):
    job = run_import(export(HUBSPOT_HEADER, [hubspot_row("101", "Ann", "Lee", mobile="07400 123456")]))

    contact = job.contacts.get()
    assert (contact.phone, contact.line_type, contact.phone_column) == (
        "+447400123456",
        "mobile",
        "Mobile Phone Number",
    )


def test_hubspot_a_row_with_only_a_landline_imports_as_a_fixed_line(run_import):
    job = run_import(export(HUBSPOT_HEADER, [hubspot_row("101", "Ann", "Lee", phone="0161 496 0000")]))

    contact = job.contacts.get()
    assert (contact.phone, contact.line_type, contact.phone_column) == ("+441614960000", "fixed_line", "Phone Number")
    assert job.line_types == {"fixed_line": 1}


def test_hubspot_a_row_with_neither_number_is_a_row_error_naming_both_columns_tried(run_import):
    rows = [hubspot_row("101", "Ann", "Lee", mobile="07400 123456"), hubspot_row("102", "Bob", "Hart")]

    job = run_import(export(HUBSPOT_HEADER, rows))

    assert (job.status, job.imported_rows, job.invalid_rows) == (ImportJob.Status.SUCCESS, 1, 1)
    assert job.errors == [
        {
            "row": 3,
            "column": "Mobile Phone Number",
            "message": "The phone number is missing (looked in Mobile Phone Number, Phone Number).",
        }
    ]


# --- Outlook ----------------------------------------------------------------------------------------------------

# What Outlook writes for a contact with a name, a company, an e-mail address, a landline, a mobile and a fax.
OUTLOOK_ANN = {
    "First Name": "Ann",
    "Last Name": "Lee",
    "Company": "Acme Ltd",
    "Job Title": "Buyer",
    "Business Fax": "+44 161 496 0001",
    "Business Phone": "+44 161 496 0000",
    "Mobile Phone": "+44 7400 123456",
    "E-mail Address": "ann.lee@example.com",
    "E-mail Type": "SMTP",
    "E-mail Display Name": "Ann Lee (ann.lee@example.com)",
    "Gender": "Unspecified",
    "Initials": "A.L.",
    "Priority": "Normal",
    "Private": "False",
    "Sensitivity": "Normal",
}


def outlook(*rows: dict[str, str]) -> str:
    return export(OUTLOOK_HEADER, list(rows), quoting=csv.QUOTE_ALL)


def test_outlook_contacts_carry_only_the_columns_that_have_values(run_import):
    job = run_import(outlook(OUTLOOK_ANN))

    contact = job.contacts.get()
    assert contact.variables == {
        "first_name": "Ann",
        "last_name": "Lee",
        "company": "Acme Ltd",
        "job_title": "Buyer",
        "business_fax": "+44 161 496 0001",
        "e_mail_address": "ann.lee@example.com",
        "e_mail_type": "SMTP",
        "e_mail_display_name": "Ann Lee (ann.lee@example.com)",
        "gender": "Unspecified",
        "initials": "A.L.",
        "priority": "Normal",
        "private": "False",
        "sensitivity": "Normal",
    }


def test_outlook_the_columns_empty_in_every_row_are_listed_as_ignored(run_import):
    job = run_import(outlook(OUTLOOK_ANN))

    assert len(OUTLOOK_HEADER) == 92
    assert job.column_mapping["ignored"] == [
        header for header in OUTLOOK_HEADER if header not in OUTLOOK_PHONES and header not in OUTLOOK_ANN
    ]
    assert len(job.column_mapping["ignored"]) == 92 - 10 - 13


def test_outlook_faxes_pager_and_the_like_are_not_phone_columns(run_import):
    job = run_import(outlook(OUTLOOK_ANN))

    assert job.column_mapping["phone"] == OUTLOOK_PHONES


def test_outlook_a_row_whose_only_numbers_are_a_fax_and_a_pager_is_a_row_error(run_import):
    fax_only = {"First Name": "Bob", "Last Name": "Hart", "Business Fax": "0161 496 0003", "Pager": "07400 654321"}

    job = run_import(outlook(OUTLOOK_ANN, fax_only))

    tried = ", ".join(OUTLOOK_PHONES)
    assert job.errors == [
        {"row": 3, "column": "Mobile Phone", "message": f"The phone number is missing (looked in {tried})."}
    ]


def test_outlook_the_mobile_phone_wins_over_a_mobile_number_in_an_earlier_business_column(run_import):
    row = {**OUTLOOK_ANN, "Business Phone 2": "07911 123456"}

    job = run_import(outlook(row))

    contact = job.contacts.get()
    assert (contact.phone, contact.phone_column, contact.name) == ("+447400123456", "Mobile Phone", "Ann Lee")


# --- Headers in other languages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "region", "phone", "name"),
    [
        pytest.param("Vorname;Nachname;Handynummer\r\nJürgen;Müller;0151 23456789\r\n", "DE", "+4915123456789",
                     "Jürgen Müller", id="de-vorname-nachname-handynummer"),
        pytest.param("Vorname;Name;Telefon\r\nSabine;Schäfer;0171 1234567\r\n", "DE", "+491711234567",
                     "Sabine Schäfer", id="de-vorname-name-telefon"),
        pytest.param("Nombre,Apellidos,Teléfono móvil\r\nLucía,García López,612 345 678\r\n", "ES", "+34612345678",
                     "Lucía García López", id="es"),
        pytest.param("Nome,Celular\r\nAna Beatriz Souza,(11) 91234-5678\r\n", "BR", "+5511912345678",
                     "Ana Beatriz Souza", id="pt-br"),
        pytest.param("Prénom;Nom;Portable\r\nAmélie;Dubois;06 12 34 56 78\r\n", "FR", "+33612345678",
                     "Amélie Dubois", id="fr"),
        pytest.param("Nome,Cognome,Cellulare\r\nGiulia,Rossi,312 345 6789\r\n", "IT", "+393123456789",
                     "Giulia Rossi", id="it"),
        pytest.param("Voornaam,Achternaam,Mobiel\r\nSanne,de Vries,06 12345678\r\n", "NL", "+31612345678",
                     "Sanne de Vries", id="nl"),
        pytest.param("Imię,Nazwisko,Telefon komórkowy\r\nAgnieszka,Wójcik,512 345 678\r\n", "PL", "+48512345678",
                     "Agnieszka Wójcik", id="pl"),
    ],
)  # fmt: skip
def test_a_file_headed_in_another_language_imports_with_its_phone_and_full_name(
    run_import, content, region, phone, name
):
    job = run_import(content, default_region=region)

    assert job.status == ImportJob.Status.SUCCESS
    contact = job.contacts.get()
    assert (contact.phone, contact.name) == (phone, name)


def test_a_german_semicolon_file_is_read_with_its_delimiter(run_import):
    job = run_import("Vorname;Nachname;Handynummer\r\nJürgen;Müller;0151 23456789\r\n", default_region="DE")

    assert job.delimiter == ";"
    assert job.column_mapping == {
        "phone": ["Handynummer"],
        "name": ["Vorname", "Nachname"],
        "variables": {"Vorname": "vorname", "Nachname": "nachname"},
        "ignored": [],
    }


# --- Title lines ------------------------------------------------------------------------------------------------


def test_a_title_line_and_a_blank_line_above_the_header_are_skipped(run_import):
    job = run_import("Contacts exported 2026-11-30\r\n\r\nName,Phone\r\nAnn Lee,07400 123456\r\n")

    assert job.status == ImportJob.Status.SUCCESS
    assert job.header_row == 3
    contact = job.contacts.get()
    assert (contact.phone, contact.name, contact.row_number) == ("+447400123456", "Ann Lee", 4)
