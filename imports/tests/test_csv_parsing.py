"""Reading a file: encoding, delimiter, header and columns, records and their row numbers."""

import codecs
import io

import pytest

from imports.csvfile import csv_rows, detect_encoding, sniff_delimiter
from imports.errors import ImportFileError
from imports.headers import normalise_key
from imports.layout import MAX_COLUMNS, Layout, PhoneSource, iter_records, read_layout


def write(tmp_path, data: bytes):
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return str(path)


def records(path, layout):
    with open(path, encoding=layout.encoding, newline="") as f:
        return list(iter_records(csv_rows(f, layout.delimiter), layout))


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("phone,name\n+447400123456,Zoë\n".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "phone,name\n+447400123456,Zoë\n".encode(), "utf-8-sig"),
        ("phone,name\n+447400123456,Müller\n".encode("cp1252"), "cp1252"),
        ("phone,name\n+447400123456,Zoë\n".encode("utf-16"), "utf-16"),
    ],
)
def test_it_detects_the_encoding(tmp_path, data, encoding):
    assert detect_encoding(write(tmp_path, data)) == encoding


def test_invalid_utf8_in_the_middle_falls_back_to_cp1252_when_that_decodes(tmp_path):
    data = b"phone,name\n" + b"+447400123456,Ann\n" * 100_000 + b"+447400123457,Caf\xe9\n"

    assert detect_encoding(write(tmp_path, data)) == "cp1252"


def test_bytes_that_neither_encoding_reads_are_refused(tmp_path):
    # 0x81 is undefined in cp1252, and not valid UTF-8 here either.
    with pytest.raises(ImportFileError, match="neither UTF-8 nor Windows-1252"):
        detect_encoding(write(tmp_path, b"phone,name\n+447400123456,\x81\x81\n"))


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"PK\x03\x04\x14\x00\x06\x00", "ZIP archive"),
        (b"%PDF-1.7\n", "PDF"),
        (b"phone,name\n+4474\x00\x00", "NUL bytes"),
    ],
)
def test_binary_files_are_refused_with_what_they_look_like(tmp_path, data, what):
    with pytest.raises(ImportFileError, match=what):
        detect_encoding(write(tmp_path, data))


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="empty"):
        detect_encoding(write(tmp_path, b""))


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_it_sniffs_the_delimiter(delimiter):
    sample = delimiter.join(["phone", "name", "city"]) + "\n" + delimiter.join(["+447400123456", "Ann", "Leeds"]) + "\n"

    assert sniff_delimiter(sample) == delimiter


def test_delimiters_inside_quotes_do_not_fool_the_sniffer():
    sample = 'phone;name;note\n+447400123456;"Smith, Ann";"a, b, c"\n+447400123457;Bob;"x, y"\n'

    assert sniff_delimiter(sample) == ";"


def test_a_single_column_file_reads_with_commas():
    assert sniff_delimiter("phone\n+447400123456\n+447400123457\n") == ","


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Phone", "Phone"),
        ("Mobile Number", "Mobile Number"),
        ("MSISDN", "MSISDN"),
        ("Tel.", "Tel."),
        ("WhatsApp", "WhatsApp"),
        ("cell_phone", "cell_phone"),
        ("PHONE-NUMBER", "PHONE-NUMBER"),
    ],
)
def test_it_finds_the_phone_column_by_common_names(tmp_path, header, expected):
    layout = read_layout(write(tmp_path, f"Name,{header},City\nAnn,+447400123456,Leeds\n".encode()))

    assert layout.phone_columns == [expected]


def test_mobile_columns_are_tried_first_and_a_bare_number_column_is_not_a_phone_beside_them(tmp_path):
    layout = read_layout(write(tmp_path, b"Number,Phone,Mobile\n1,+447400123456,+447400123457\n"))

    assert layout.phone_columns == ["Mobile", "Phone"]
    assert dict((key, i) for i, key in layout.variables) == {"number": 0}


def test_a_bare_number_column_is_the_phone_column_of_a_file_without_another(tmp_path):
    layout = read_layout(write(tmp_path, b"Name,Number\nAnn,+447400123456\n"))

    assert layout.phone_columns == ["Number"]


def test_a_phone_column_can_be_named_explicitly_ignoring_case_and_punctuation(tmp_path):
    layout = read_layout(write(tmp_path, b"Contact No,Who\n+447400123456,Ann\n"), phone_column="contact-no")

    assert layout.phone_sources == (PhoneSource(0, mobile=False),)


def test_a_named_phone_column_that_is_missing_is_a_clear_error(tmp_path):
    with pytest.raises(ImportFileError, match="'Handy' is not in the header: 'Phone', 'Name'"):
        read_layout(write(tmp_path, b"Phone,Name\n+447400123456,Ann\n"), phone_column="Handy")


def test_no_phone_column_is_a_clear_error(tmp_path):
    with pytest.raises(ImportFileError, match="No phone column found in the header"):
        read_layout(write(tmp_path, b"Name,City\nAnn,Leeds\n"))


def test_a_file_without_a_header_row_is_refused(tmp_path):
    with pytest.raises(ImportFileError, match="no header row"):
        read_layout(write(tmp_path, b"+447400123456,Ann\n+447400123457,Bob\n"))


def test_a_blank_file_has_no_header(tmp_path):
    with pytest.raises(ImportFileError, match="no header row"):
        read_layout(write(tmp_path, b"\n\n  \n"))


def test_too_many_columns_are_refused(tmp_path):
    header = ",".join(["phone"] + [f"c{i}" for i in range(10_000)])

    with pytest.raises(ImportFileError, match=f"10001 columns; at most {MAX_COLUMNS}"):
        read_layout(write(tmp_path, header.encode() + b"\n"))


def test_the_name_comes_from_a_full_name_column(tmp_path):
    layout = read_layout(write(tmp_path, b"Full Name,Phone,First Name\nAnn Lee,+447400123456,Ann\n"))

    assert [layout.header[i] for i in layout.name_indexes] == ["Full Name"]
    # The full-name column is the name, not a variable; other name-like columns stay variables.
    assert [key for _, key in layout.variables] == ["first_name"]


def test_the_name_joins_first_and_last_name_columns(tmp_path):
    layout = read_layout(write(tmp_path, b"Surname,Phone,Given Name\nLee,+447400123456,Ann\n"))

    assert [layout.header[i] for i in layout.name_indexes] == ["Given Name", "Surname"]
    assert [key for _, key in layout.variables] == ["surname", "given_name"]


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Order No.", "order_no"),
        ("  Prénom ", "prenom"),
        ("Balance (€)", "balance"),
        ("über-Größe", "uber_grosse"),
        ("Имя клиента", "имя_клиента"),
        ("__id__", "id"),
    ],
)
def test_column_keys_are_normalised(header, key):
    assert normalise_key(header) == key


def test_key_clashes_and_empty_headers_are_resolved_in_column_order(tmp_path):
    layout = read_layout(write(tmp_path, b"Phone,Order No,order-no,,Name,name!,!!\n+447400123456,1,2,3,Ann,x,y\n"))

    assert [key for _, key in layout.variables] == ["order_no", "order_no_2", "column_4", "name_2", "column_7"]


def test_records_keep_spreadsheet_row_numbers_across_quoted_newlines_crlf_and_blank_lines(tmp_path):
    data = (
        b"\r\n"  # a blank first line: the header is on row 2
        b'phone,name,note\r\n+447400123456,Ann,"line one\r\nline two"\r\n\r\n'
        b"+447400123457,Bob,plain\r\n"
    )
    path = write(tmp_path, data)
    layout = read_layout(path)

    assert layout.header_row == 2
    assert records(path, layout) == [
        (3, ["+447400123456", "Ann", "line one\r\nline two"]),
        (5, ["+447400123457", "Bob", "plain"]),
    ]


def test_quoted_fields_keep_their_delimiters(tmp_path):
    path = write(tmp_path, b'phone;name\n+447400123456;"Lee; Ann"\n')
    layout = read_layout(path)

    assert records(path, layout) == [(2, ["+447400123456", "Lee; Ann"])]


def test_a_runaway_quoted_field_fails_with_its_row(tmp_path):
    path = write(tmp_path, b'phone,note\n+447400123456,ok\n+447400123457,"' + b"x" * 200_000 + b'"\n')
    layout = read_layout(path)

    with pytest.raises(ImportFileError, match="Row 3: the CSV cannot be read"):
        records(path, layout)


def test_records_read_from_any_text_stream():
    layout = Layout(header=["phone"], header_row=1, phone_sources=(PhoneSource(0, mobile=False),), name_indexes=())
    rows = csv_rows(io.StringIO("phone\n+447400123456\n"), ",")

    assert list(iter_records(rows, layout)) == [(2, ["+447400123456"])]
