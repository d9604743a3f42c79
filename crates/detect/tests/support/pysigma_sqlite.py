"""Judge Sigma rules with an independent implementation: pySigma and its SQLite backend.

Run by `crates/detect/tests/sigma_pysigma.rs` as

    python pysigma_sqlite.py RULES.yml EVENTS.jsonl

Each rule document is converted to one SQLite query by pySigma-backend-sqlite; the events
(one JSON object a line) are loaded into an in-memory table; each query is run over it. The
answer, on standard output, is one JSON object:

    {"rules": [{"id": "feature-eq", "sql": "SELECT ...", "lines": [1, 2]},
               {"id": "feature-keywords", "error": "why pySigma refused it"}]}

`lines` are the 1-based line numbers of the events the query selects.

How the table is built, and why:

* One column per field. Nested objects are flattened with dotted names
  (`process.parent.name`), the spelling a Sigma rule uses for a nested field.
* Columns have NUMERIC affinity, so a JSON number and its spelling as a string (4688 and
  "4688") are stored as the same number and numeric comparisons (`gt`, `lt`, ...) compare
  numbers rather than text. Strings that are not numbers stay text.
* Columns collate NOCASE, the case-insensitive equality Sigma asks for (ASCII letters only:
  SQLite folds no other letters, which is why non-ASCII case is judged by hand).
* JSON booleans are stored as the text 'true'/'false' (the backend accepts that or 1/0),
  JSON null and absent fields both as SQL NULL (so this oracle cannot tell them apart),
  and arrays as their JSON text.
* REGEXP, which SQLite leaves to the application, is Python's `re.search`.

Rule ids need not be UUIDs in our fixtures, so each id is taken out before pySigma reads the
document and reported beside the result.
"""

import json
import re
import sqlite3
import sys

import yaml
from sigma.backends.sqlite import sqliteBackend
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

TABLE = "events"


def flatten(value, prefix, out):
    """Fields of one event as dotted column names and SQLite values."""
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):
            flatten(item, f"{name}.", out)
        elif isinstance(item, bool):
            out[name] = "true" if item else "false"
        elif isinstance(item, list):
            out[name] = json.dumps(item)
        else:
            out[name] = item


def quote(name):
    return "`" + name.replace("`", "``") + "`"


def regexp(pattern, value):
    if value is None:
        return 0
    try:
        return 1 if re.search(pattern, str(value)) else 0
    except re.error:
        return 0


def load_events(path):
    rows = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            event = json.loads(line)
            row = {}
            flatten(event, "", row)
            rows.append((number, row))
    return rows


def build_table(connection, rows):
    columns = []
    for _, row in rows:
        for name in row:
            if name.lower() not in (c.lower() for c in columns):
                columns.append(name)
    definition = ", ".join(["line INTEGER"] + [f"{quote(c)} NUMERIC COLLATE NOCASE" for c in columns])
    connection.execute(f"CREATE TABLE {TABLE} ({definition})")
    for number, row in rows:
        names = ["line"] + list(row)
        marks = ", ".join("?" for _ in names)
        connection.execute(
            f"INSERT INTO {TABLE} ({', '.join(quote(n) for n in names)}) VALUES ({marks})",
            [number] + list(row.values()),
        )
    return columns


def judge(document, backend, connection, columns):
    rule_id = str(document.pop("id", "")) or str(document.get("title", ""))
    try:
        rule = SigmaRule.from_dict(document)
        queries = backend.convert_rule(rule)
    except SigmaError as error:
        return {"id": rule_id, "error": f"{type(error).__name__}: {error}"}
    # A list of conditions gives one query each; Sigma links them with OR.
    sql = " UNION ".join(queries)
    # A rule may name a field no event carries; give the query a column of NULLs to read.
    missing = [f for f in backend.required_fields(rule) if f.lower() not in (c.lower() for c in columns)]
    for field in missing:
        connection.execute(f"ALTER TABLE {TABLE} ADD COLUMN {quote(field)} NUMERIC COLLATE NOCASE")
        columns.append(field)
    selects = [query.replace("SELECT *", "SELECT line", 1) for query in queries]
    try:
        lines = [row[0] for row in connection.execute(" UNION ".join(selects) + " ORDER BY line")]
    except sqlite3.Error as error:
        return {"id": rule_id, "sql": sql, "error": f"sqlite: {error}"}
    return {"id": rule_id, "sql": sql, "lines": lines}


def main(argv):
    if len(argv) != 3:
        print("usage: pysigma_sqlite.py RULES.yml EVENTS.jsonl", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        documents = [d for d in yaml.safe_load_all(handle) if d]
    connection = sqlite3.connect(":memory:")
    connection.create_function("REGEXP", 2, regexp, deterministic=True)
    columns = build_table(connection, load_events(argv[2]))
    backend = sqliteBackend(table=TABLE)
    results = [judge(document, backend, connection, columns) for document in documents]
    json.dump({"rules": results}, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
