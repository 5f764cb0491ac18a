"""Police workforce tables built by hand, laid out as the Home Office publishes them: 43 forces
under their regions, a figure per as-at date, and the rows around them a reader must skip."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd
from openpyxl import Workbook

REGIONS = {
    "North East": ["Cleveland", "Durham", "Northumbria"],
    "North West": ["Cheshire", "Cumbria", "Greater Manchester", "Lancashire", "Merseyside"],
    "Yorkshire and the Humber": [
        "Humberside",
        "North Yorkshire",
        "South Yorkshire",
        "West Yorkshire",
    ],
    "East Midlands": [
        "Derbyshire1",
        "Leicestershire",
        "Lincolnshire",
        "Northamptonshire",
        "Nottinghamshire",
    ],
    "West Midlands": ["Staffordshire", "Warwickshire", "West Mercia", "West Midlands"],
    "East of England": [
        "Bedfordshire",
        "Cambridgeshire",
        "Essex",
        "Hertfordshire",
        "Norfolk",
        "Suffolk",
    ],
    "London": ["London, City of", "Metropolitan Police"],
    "South East": ["Hampshire", "Kent", "Surrey", "Sussex", "Thames Valley"],
    "South West": [
        "Avon & Somerset",
        "Devon & Cornwall",
        "Dorset",
        "Gloucestershire",
        "Wiltshire (2)",
    ],
    "Wales": ["Dyfed-Powys", "Gwent", "North Wales", "South Wales"],
}
AS_AT = [datetime(2014, 9, 30), datetime(2015, 3, 31), datetime(2015, 9, 30)]
TITLE = "Table 1: Police officers by police force area, English region and Wales, 2014 and 2015"


def workforce_rows() -> list[list]:
    """Names and figures as the publisher lists them: each region's subtotal, then its forces."""
    rows, number = [], 0
    for region, forces in REGIONS.items():
        figures = []
        for force in forces:
            number += 1
            figures.append([force, *(1000 + number * 10 + k + 0.25 for k in range(3))])
        rows.append([region, *(round(sum(f[k] for f in figures), 2) for k in (1, 2, 3))])
        rows.extend(figures)
    rows.append(["Total 43 forces", 1.0, 2.0, 3.0])
    rows.append(["British Transport Police", 2912.29, 2877.2, 3074.12])
    rows.append(["England and Wales", 1.0, 2.0, 3.0])
    return rows


def usual_layout(rows: list[list], title: str = TITLE) -> list[list]:
    """As in the September 2015 release: title in A1, names in A, dates in B:D, changes after."""
    grid = [[title], [], [None] * 7 + ["Full-time equivalents"]]
    grid.append(["Police force area", "As at:", None, None, "Change in 12 months", None])
    grid.append([])
    grid.append([None, *AS_AT, "number", "%"])
    grid.extend([r[0], *r[1:], -1.5, -0.1] for r in rows)
    grid += [[], ["1 Some footnote about Derbyshire."], ["Source: Home Office"]]
    return grid


def moved_layout(rows: list[list]) -> list[list]:
    """Another release: a blank column A, title lower, a blank column between names and figures,
    the table further down and the dates newest first."""
    order = [2, 0, 1]
    grid = [[], [], [None, TITLE], [], [None, "Police officers, England and Wales"], []]
    grid.append([None, "Area", None, "As at", None, None, "Change in 6 months", None])
    grid += [[], []]
    grid.append([None, None, None, *(AS_AT[k] for k in order), "number", "%"])
    grid.extend([None, r[0], None, *(r[1 + k] for k in order), 3, 0.2] for r in rows)
    grid += [[None, "Notes"], [None, "2 Wiltshire figures extracted late."]]
    return grid


def write_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    if path.suffix == ".xlsx":
        book = Workbook()
        book.remove(book.active)
        for sheet, grid in sheets.items():
            worksheet = book.create_sheet(sheet)
            for number, row in enumerate(grid, start=1):
                for col, cell in enumerate(row, start=1):
                    if cell is not None:
                        worksheet.cell(number, col, cell)
        book.save(path)
    else:
        with pd.ExcelWriter(path, engine="odf") as writer:
            for sheet, grid in sheets.items():
                frame = pd.DataFrame(grid or [[None]], dtype=object)
                frame.to_excel(writer, sheet_name=sheet, header=False, index=False)
    return path
