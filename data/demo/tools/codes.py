#!/usr/bin/env python3
"""Identifier tool for the onetrip demo catalog (data/demo/catalog.yaml).

Unified social credit codes (GB 32100) and the organisation codes embedded in them (GB 11714):

    python3 codes.py make 11 330100 00248207     # registering authority+category, division, 8-char org body
    python3 codes.py verify 91330100716105852F   # check one code
    python3 codes.py check ../catalog.yaml       # check every code in the catalog (default path)

`check` verifies, for the catalog document:
  * every department code is a valid credit code (both check characters), unique, and its
    division code (positions 3-8) is the department's division (339900 departments may use 330000);
  * every division code is 6 digits and unique; every reference to a division or department resolves;
  * every item: base_code is 12 characters [0-9A-Z]; implementation_code = department code + base code
    (30 characters, unique); handling_code (when given) = implementation code + 3 digits (unique);
  * sub-items: parent_code names an item of the document whose base code ends in 000 and shares the
    first 9 characters of the sub-item's base code; main items' base codes end in 000;
  * materials whose source is a bundle_output name an existing item.
It needs PyYAML (python3 -m pip install pyyaml). Exit status 1 when anything is wrong.
"""

import re
import sys
from pathlib import Path

# GB 32100: the 31-character alphabet (no I, O, Z, S, V) and the weights of positions 1-17.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
# GB 11714: weights of the 8 body characters of an organisation code.
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]
# Registering authority (position 1) and the categories (position 2) GB 32100 defines for it.
CATEGORIES = {
    "1": "1239",  # 机构编制: 机关, 事业单位, 中央编办直管群众团体, 其他
    "2": "19",  # 外交
    "3": "1239",  # 司法行政
    "4": "19",  # 文化
    "5": "1239",  # 民政: 社会团体, 民办非企业单位, 基金会, 其他
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "129",  # 工会
    "9": "123",  # 工商: 企业, 个体工商户, 农民专业合作社
    "A": "19",  # 中央军委改革和编制办公室
    "N": "1239",  # 农业
    "Y": "1",  # 其他
}


def org_value(c: str) -> int:
    """Value of an organisation-code character: 0-9 are themselves, A=10 ... Z=35."""
    if c.isdigit():
        return int(c)
    if "A" <= c <= "Z":
        return ord(c) - ord("A") + 10
    raise ValueError(f"bad organisation-code character {c!r}")


def org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation-code body."""
    if len(body) != 8:
        raise ValueError("organisation-code body must have 8 characters")
    r = 11 - sum(org_value(c) * w for c, w in zip(body, ORG_WEIGHTS)) % 11
    return {10: "X", 11: "0"}.get(r, str(r))


def credit_check(first17: str) -> str:
    """GB 32100 check character of the first 17 characters."""
    total = sum(ALPHABET.index(c) * w for c, w in zip(first17, WEIGHTS))
    return ALPHABET[(31 - total % 31) % 31]


def make_credit(authority_category: str, division: str, org_body: str) -> str:
    """Builds a credit code from 2 chars of authority+category, a 6-digit division and an 8-char org body."""
    org = org_body + org_check(org_body)
    for c in org:
        if c not in ALPHABET:
            raise ValueError(f"organisation code {org} has {c!r}, which a credit code cannot carry")
    first17 = authority_category + division + org
    return first17 + credit_check(first17)


def credit_errors(code: str) -> list[str]:
    """Everything wrong with a credit code (empty when valid)."""
    if len(code) != 18:
        return [f"{code}: length {len(code)}, expected 18"]
    bad = [c for c in code if c not in ALPHABET]
    if bad:
        return [f"{code}: characters outside the GB 32100 alphabet: {''.join(bad)}"]
    errors = []
    if code[1] not in CATEGORIES.get(code[0], ""):
        errors.append(f"{code}: unknown registering authority/category {code[:2]}")
    if not code[2:8].isdigit():
        errors.append(f"{code}: division part {code[2:8]} is not 6 digits")
    if org_check(code[8:16]) != code[16]:
        errors.append(f"{code}: organisation-code check is {code[16]}, expected {org_check(code[8:16])}")
    if credit_check(code[:17]) != code[17]:
        errors.append(f"{code}: check character is {code[17]}, expected {credit_check(code[:17])}")
    return errors


CODE = re.compile(r"^[0-9A-Z]+$")


def check_catalog(path: Path) -> list[str]:
    import yaml  # PyYAML

    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors: list[str] = []
    divisions = set()
    for i, d in enumerate(doc.get("divisions", [])):
        code = str(d["code"])
        if not re.fullmatch(r"\d{6}", code):
            errors.append(f"divisions[{i}].code {code}: not 6 digits")
        if code in divisions:
            errors.append(f"divisions[{i}].code {code}: duplicate")
        divisions.add(code)
    departments = {}
    for i, d in enumerate(doc.get("departments", [])):
        code, div = str(d["code"]), str(d["division_code"])
        errors += [f"departments[{i}] {d['name']}: {e}" for e in credit_errors(code)]
        if code in departments:
            errors.append(f"departments[{i}].code {code}: duplicate")
        departments[code] = d
        if div not in divisions:
            errors.append(f"departments[{i}].division_code {div}: unknown division")
        allowed = {div} | ({"330000"} if div == "339900" else set())
        if code[2:8] not in allowed:
            errors.append(f"departments[{i}] {d['name']}: code division {code[2:8]} is not {div}")
    items = {}
    handling = set()
    for i, it in enumerate(doc.get("items", [])):
        p = f"items[{i}] {it.get('name')}"
        base, impl = str(it["base_code"]), str(it["implementation_code"])
        dept = str(it["department_code"])
        if len(base) != 12 or not CODE.match(base):
            errors.append(f"{p}: base_code {base} is not 12 characters [0-9A-Z]")
        if dept not in departments:
            errors.append(f"{p}: unknown department {dept}")
        if str(it["division_code"]) not in divisions:
            errors.append(f"{p}: unknown division {it['division_code']}")
        if impl != dept + base:
            errors.append(f"{p}: implementation_code {impl} is not department code + base code")
        if impl in items:
            errors.append(f"{p}: duplicate implementation_code {impl}")
        items[impl] = it
        h = it.get("handling_code")
        if h is not None:
            h = str(h)
            if not (h.startswith(impl) and re.fullmatch(r"\d{3}", h[len(impl):])):
                errors.append(f"{p}: handling_code {h} is not implementation code + 3 digits")
            if h in handling:
                errors.append(f"{p}: duplicate handling_code {h}")
            handling.add(h)
    for i, it in enumerate(doc.get("items", [])):
        p = f"items[{i}] {it.get('name')}"
        base = str(it["base_code"])
        parent = it.get("parent_code")
        if parent is None:
            if not base.endswith("000"):
                errors.append(f"{p}: main item whose base code {base} does not end in 000")
        else:
            main = items.get(str(parent))
            if main is None:
                errors.append(f"{p}: parent_code {parent} names no item")
            else:
                pb = str(main["base_code"])
                if not pb.endswith("000") or pb[:9] != base[:9] or base.endswith("000"):
                    errors.append(f"{p}: base code {base} is not a sub-item code of {pb}")
        for m in it.get("materials", []):
            src = m.get("source", {})
            if src.get("kind") == "bundle_output" and str(src.get("item")) not in items:
                errors.append(f"{p}: material {m['id']} names unknown item {src.get('item')}")
    return errors


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "make" and len(argv) == 5:
        print(make_credit(argv[2], argv[3], argv[4]))
        return 0
    if len(argv) >= 2 and argv[1] == "verify":
        bad = False
        for code in argv[2:]:
            errors = credit_errors(code)
            print(f"{code}: {'; '.join(errors) if errors else 'ok'}")
            bad |= bool(errors)
        return 1 if bad else 0
    if len(argv) >= 2 and argv[1] == "check":
        path = Path(argv[2]) if len(argv) > 2 else Path(__file__).resolve().parent.parent / "catalog.yaml"
        errors = check_catalog(path)
        for e in errors:
            print(e)
        print(f"{path}: {'OK' if not errors else f'{len(errors)} problem(s)'}")
        return 1 if errors else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
