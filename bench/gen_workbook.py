"""Convert a contacts CSV (bench/gen_contacts.py) into an Excel workbook (.xlsx) laid out as Excel saves one.

    python bench/gen_workbook.py CSV_PATH XLSX_PATH

Excel keeps every text cell in the workbook's shared-string table (xl/sharedStrings.xml, each distinct
text once, cells t="s" pointing into it) and numbers as <v> numbers; openpyxl's write-only mode writes
inline strings instead, so this writes the XML by hand, with the standard library's zipfile:

- the phone column as text cells in a column formatted as Text (numFmtId 49), kept as the CSV has them;
- other cells that read as plain decimal numbers as numbers (two decimals: formatted 0.00, numFmtId 2);
- everything else as shared strings.

The sheet's XML streams into the zip row by row; what grows with the file is the table of distinct
texts (in memory, as in Excel), written after the sheet. A first pass over the CSV counts its rows and
columns for the sheet's <dimension ref>.
"""

from __future__ import annotations

import csv
import itertools
import re
import sys
import time
import zipfile
from xml.sax.saxutils import escape

TEXT_COLUMNS = {"Mobile"}  # formatted as Text: digits stay text, as a phone number must
NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?")
GENERAL, TEXT, TWO_DECIMALS = 0, 1, 2  # indexes into styles.xml's cellXfs
STYLE_ATTR = {GENERAL: "", TEXT: f' s="{TEXT}"', TWO_DECIMALS: f' s="{TWO_DECIMALS}"'}  # Excel leaves out s="0"
FLUSH_ROWS = 2000

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PART_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    f'{HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{PART_TYPE}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{PART_TYPE}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{PART_TYPE}.styles+xml"/>'
    f'<Override PartName="/xl/sharedStrings.xml" ContentType="{PART_TYPE}.sharedStrings+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    f'{HEAD}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'{HEAD}<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}">'
    '<sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'{HEAD}<Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{DOC_RELS}/styles" Target="styles.xml"/>'
    f'<Relationship Id="rId3" Type="{DOC_RELS}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
XF = '<xf numFmtId="{}" fontId="0" fillId="0" borderId="0" xfId="0"{}/>'
APPLY = ' applyNumberFormat="1"'
CELL_XFS = XF.format(0, "") + XF.format(49, APPLY) + XF.format(2, APPLY)  # GENERAL, TEXT, TWO_DECIMALS
STYLES = (
    f'{HEAD}<styleSheet xmlns="{MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    f'<cellXfs count="3">{CELL_XFS}</cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
PARTS = {
    "[Content_Types].xml": CONTENT_TYPES,
    "_rels/.rels": ROOT_RELS,
    "xl/workbook.xml": WORKBOOK,
    "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
    "xl/styles.xml": STYLES,
}
SHEET_END = '</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def shape(csv_path: str) -> tuple[int, int]:
    """(rows, widest row) of the CSV, header included."""
    rows = width = 0
    with open(csv_path, newline="", encoding="utf-8") as f:
        for row in csv.reader(f):
            rows += 1
            width = max(width, len(row))
    return rows, width


def number_text(text: str) -> str:
    """A number as Excel writes it in <v>: the shortest repr of the double, no trailing .0."""
    value = float(text)
    return str(int(value)) if value.is_integer() else repr(value)


def style_of(text: str) -> int:
    """A number's format: 0.00 when the CSV has it with two decimals, as a balance column is formatted."""
    return TWO_DECIMALS if "." in text and len(text) - text.index(".") == 3 else GENERAL


def main(csv_path: str, xlsx_path: str) -> None:
    rows, width = shape(csv_path)
    letters = [column_letter(i) for i in range(width)]
    strings: dict[str, int] = {}  # text -> its index in the shared-string table, in first-seen order
    string_cells = 0
    # Past 2 GiB (a cell takes about 40 bytes of XML) a zip entry needs zip64, asked for before writing it.
    large = rows * width * 64 > 1 << 31
    now = time.localtime()[:6]
    with zipfile.ZipFile(xlsx_path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:

        def part(name: str) -> zipfile.ZipInfo:  # a streamed part's date would otherwise be 1980
            info = zipfile.ZipInfo(name, now)
            info.compress_type = zipfile.ZIP_DEFLATED
            return info

        for name, xml in PARTS.items():
            archive.writestr(name, xml)
        with (
            open(csv_path, newline="", encoding="utf-8") as f,
            archive.open(part("xl/worksheets/sheet1.xml"), "w", force_zip64=large) as sheet,
        ):
            reader = csv.reader(f)
            header = next(reader)
            text_columns = {i for i, name in enumerate(header) if name in TEXT_COLUMNS}
            cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="18" style="{TEXT}" customWidth="1"/>'
                           for i in sorted(text_columns))  # fmt: skip
            out = [
                f'{HEAD}<worksheet xmlns="{MAIN}" xmlns:r="{DOC_RELS}">',
                f'<dimension ref="A1:{letters[width - 1]}{rows}"/>',
                '<sheetViews><sheetView workbookViewId="0"/></sheetViews><sheetFormatPr defaultRowHeight="15"/>',
                f"<cols>{cols}</cols><sheetData>" if cols else "<sheetData>",
            ]
            for r, row in enumerate(itertools.chain([header], reader), start=1):
                out.append(f'<row r="{r}" spans="1:{width}">')
                for i, text in enumerate(row):
                    if not text:
                        continue  # Excel writes no element for an empty cell
                    ref = f"{letters[i]}{r}"
                    if r > 1 and i not in text_columns and NUMBER.fullmatch(text):
                        out.append(f'<c r="{ref}"{STYLE_ATTR[style_of(text)]}><v>{number_text(text)}</v></c>')
                        continue
                    index = strings.get(text)
                    if index is None:
                        index = strings[text] = len(strings)
                    string_cells += 1
                    style = TEXT if i in text_columns else GENERAL
                    out.append(f'<c r="{ref}"{STYLE_ATTR[style]} t="s"><v>{index}</v></c>')
                out.append("</row>")
                if r % FLUSH_ROWS == 0:
                    sheet.write("".join(out).encode())
                    out.clear()
            out.append(f"{SHEET_END}</worksheet>")
            sheet.write("".join(out).encode())

        with archive.open(part("xl/sharedStrings.xml"), "w", force_zip64=large) as sst:
            out = [f'{HEAD}<sst xmlns="{MAIN}" count="{string_cells}" uniqueCount="{len(strings)}">']
            for n, text in enumerate(strings, start=1):
                space = ' xml:space="preserve"' if text != text.strip() else ""
                out.append(f"<si><t{space}>{escape(text)}</t></si>")
                if n % FLUSH_ROWS == 0:
                    sst.write("".join(out).encode())
                    out.clear()
            out.append("</sst>")
            sst.write("".join(out).encode())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
