#!/usr/bin/env python3
"""Writes a Norway-size register in fullmakt's import format (docs/register-import.md).

Defaults: 850 000 main units and 250 000 sub-units (1.1 M units), 1 000 000 persons and about
3 M ER roles, shaped roughly like Enhetsregisteret: many AS and ENK, some FLI, BRL, ESEK and
NUF; boards on companies and associations, owners on sole proprietorships, accounting firms
that are REGN for a third of the companies, auditors (REVI), and FFØR on housing companies.

Every organisation number passes MOD11; every person number is a *synthetic* Tenor-style
number (month + 80), so import with --test-data. The output is deterministic for a seed.

Also writes the same rows as two CSV files in the columns of fullmakt's tables (parties.csv and
roles.csv) when --csv DIR is given, for the peer comparison with sqlite3 .import and PostgreSQL
COPY (see run.sh).

Usage: generate.py OUT.jsonl [--scale 1.0] [--seed 1] [--csv DIR]
"""

import argparse
import json
import os
import random
import sys

ORG_WEIGHTS = [3, 2, 7, 6, 5, 4, 3, 2]
K1 = [3, 7, 6, 1, 8, 9, 4, 5, 2]
K2 = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2]

# (unit type, share of main units)
MAIN_TYPES = [("AS", 0.40), ("ENK", 0.33), ("FLI", 0.08), ("ANS", 0.02), ("DA", 0.02), ("NUF", 0.03),
              ("BRL", 0.03), ("ESEK", 0.02), ("SA", 0.01), ("STI", 0.02), ("ASA", 0.002), ("KOMM", 0.001),
              ("ORGL", 0.017), ("SÆR", 0.01), ("KS", 0.01), ("IKS", 0.01)]
WORDS = ["Fjord", "Nord", "Solstråle", "Berg", "Vik", "Dal", "Havn", "Skog", "Elv", "Lys", "Stein", "Bølge",
         "Tind", "Myr", "Øy", "Li", "Sjø", "Vind", "Furu", "Bjørk"]
TRADES = ["Bakeri", "Bygg", "Regnskap", "Transport", "Fiske", "Data", "Eiendom", "Handel", "Rør", "Elektro",
          "Consulting", "Maskin", "Helse", "Reiseliv", "Landbruk"]
FIRST = ["Kari", "Ola", "Ingrid", "Per", "Nora", "Lars", "Emma", "Jonas", "Sofie", "Henrik", "Maja", "Emil"]
# ER code → the catalogue's role code, which is what the er_roles table stores.
ROLE_CODES = {"INNH": "innehaver", "REGN": "regnskapsforer", "KNUF": "kontaktperson-nuf", "REPR": "norsk-representant",
              "DTSO": "deltaker-fullt-ansvar", "DTPR": "deltaker-delt-ansvar", "LEDE": "styreleder", "NEST": "nestleder",
              "MEDL": "styremedlem", "DAGL": "daglig-leder", "REVI": "revisor", "FFØR": "forretningsforer"}
LAST = ["Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen", "Jensen",
        "Karlsen", "Berg", "Haugen"]


def org_numbers(start):
    """Valid organisation numbers from an eight-digit start, skipping those without a check digit."""
    n = start
    while True:
        digits = [int(c) for c in f"{n:08d}"]
        r = 11 - sum(w * d for w, d in zip(ORG_WEIGHTS, digits)) % 11
        r = 0 if r == 11 else r
        if r != 10:
            yield f"{n:08d}{r}"
        n += 1


def mod11(weights, digits):
    r = 11 - sum(w * d for w, d in zip(weights, digits)) % 11
    return 0 if r == 11 else (None if r == 10 else r)


def person_numbers(rng, count):
    """Distinct synthetic person numbers: a birth date with 80 added to the month."""
    seen = set()
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    while len(seen) < count:
        month = rng.randint(1, 12)
        day = rng.randint(1, days[month - 1])
        year = rng.randint(0, 99)
        individual = rng.randint(0, 999)
        nine = f"{day:02d}{month + 80:02d}{year:02d}{individual:03d}"
        d = [int(c) for c in nine]
        k1 = mod11(K1, d)
        if k1 is None:
            continue
        k2 = mod11(K2, d + [k1])
        if k2 is None:
            continue
        pid = f"{nine}{k1}{k2}"
        if pid not in seen:
            seen.add(pid)
            yield pid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = Norway size")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--csv", help="also write parties.csv and roles.csv here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    # The CSV's uuids come from their own generator, so the JSON lines are the same with or
    # without --csv.
    uuid_rng = random.Random(args.seed + 1)

    n_main = int(850_000 * args.scale)
    n_sub = int(250_000 * args.scale)
    n_persons = int(1_000_000 * args.scale)

    numbers = org_numbers(31_000_000)
    types = [t for t, _ in MAIN_TYPES]
    weights = [w for _, w in MAIN_TYPES]
    main_units = [(next(numbers), rng.choices(types, weights)[0]) for _ in range(n_main)]
    persons = list(person_numbers(rng, n_persons))
    companies = [o for o, t in main_units if t in ("AS", "ASA")]
    accounting_firms = rng.sample(companies, max(1, len(companies) // 60))
    auditors = rng.sample(companies, max(1, len(companies) // 300))

    party_id = 50_000_000
    counts = {"organization": 0, "person": 0, "role": 0}
    csv_parties = csv_roles = None
    if args.csv:
        os.makedirs(args.csv, exist_ok=True)
        csv_parties = open(os.path.join(args.csv, "parties.csv"), "w", encoding="utf-8")
        csv_roles = open(os.path.join(args.csv, "roles.csv"), "w", encoding="utf-8")
    ids = {}

    with open(args.out, "w", encoding="utf-8") as out:
        def party(line, key, kind, name, unit_type=None, main_unit=None):
            nonlocal party_id
            party_id += 1
            ids[key] = party_id
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            counts[kind] += 1
            if csv_parties:
                uuid = "%08x-%04x-4%03x-8%03x-%012x" % (uuid_rng.getrandbits(32), uuid_rng.getrandbits(16),
                                                        uuid_rng.getrandbits(12), uuid_rng.getrandbits(12),
                                                        uuid_rng.getrandbits(48))
                org = key if kind == "organization" else ""
                pid = key if kind == "person" else ""
                csv_parties.write(f"{party_id},{uuid},{kind},{org},{pid},{name},{unit_type or ''},{ids.get(main_unit, '')},0,0,0\n")

        def role(unit, code, person=None, org=None):
            line = {"type": "role", "from": unit, "role": code}
            if person:
                line["toPerson"] = person
            else:
                line["toOrganization"] = org
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            counts["role"] += 1
            if csv_roles:
                csv_roles.write(f"{ids[unit]},{ROLE_CODES[code]},{ids[person or org]},0\n")

        for orgno, unit_type in main_units:
            name = f"{rng.choice(WORDS)}{rng.choice(WORDS).lower()} {rng.choice(TRADES)} {unit_type}"
            party({"type": "organization", "orgNumber": orgno, "name": name, "unitType": unit_type}, orgno,
                  "organization", name, unit_type)
        sub_owners = rng.choices(main_units, k=n_sub)
        for orgno, unit_type in sub_owners:
            sub = next(numbers)
            name = f"Avdeling {rng.choice(WORDS)} {orgno}"
            sub_type = "BEDR" if unit_type not in ("FLI", "STI", "ORGL", "KOMM", "SÆR") else "AAFY"
            party({"type": "organization", "orgNumber": sub, "name": name, "unitType": sub_type, "mainUnit": orgno},
                  sub, "organization", name, sub_type, orgno)
        for pid in persons:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            party({"type": "person", "personIdentifier": pid, "name": name}, pid, "person", name)

        for orgno, unit_type in main_units:
            def pick():
                return persons[rng.randrange(len(persons))]
            if unit_type == "ENK":
                role(orgno, "INNH", person=pick())
                if rng.random() < 0.35:
                    role(orgno, "REGN", org=rng.choice(accounting_firms))
                continue
            if unit_type == "NUF":
                role(orgno, "KNUF", person=pick())
                role(orgno, "REPR", person=pick())
                continue
            if unit_type in ("ANS", "DA"):
                role(orgno, "DTSO" if unit_type == "ANS" else "DTPR", person=pick())
                role(orgno, "DTSO" if unit_type == "ANS" else "DTPR", person=pick())
                continue
            board = list({pick() for _ in range(5)})
            role(orgno, "LEDE", person=board[0])
            if rng.random() < 0.5 and len(board) > 1:
                role(orgno, "NEST", person=board[1])
            for member in board[2:2 + rng.randint(1, 3)]:
                role(orgno, "MEDL", person=member)
            if unit_type in ("AS", "ASA", "SA", "STI", "ORGL", "KOMM", "SÆR", "IKS"):
                role(orgno, "DAGL", person=pick())
            if unit_type in ("AS", "ASA", "FLI", "SA") and rng.random() < 0.45:
                role(orgno, "REGN", org=rng.choice(accounting_firms))
            if unit_type in ("AS", "ASA", "STI") and rng.random() < 0.35:
                role(orgno, "REVI", org=rng.choice(auditors))
            if unit_type in ("BRL", "ESEK") and rng.random() < 0.8:
                role(orgno, "FFØR", org=rng.choice(accounting_firms))

    if csv_parties:
        csv_parties.close()
        csv_roles.close()
    print(json.dumps(counts), file=sys.stderr)


if __name__ == "__main__":
    main()
