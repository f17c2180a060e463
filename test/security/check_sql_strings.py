#!/usr/bin/env python3
"""
check_sql_strings.py
    Fails when SQL is built from strings anywhere in the project.

The rule (docs/SECURITY.md, "No SQL built from strings"): every query the
extension or its tools run is a constant, and values travel as parameters.
This scanner enforces it on the C sources and the SQL install scripts:

  C (src/, tools/, test/ C files)
    - SPI_execute, SPI_exec, SPI_execute_with_args, SPI_prepare*,
      SPI_cursor_open_with_args, SPI_execute_extended: the query argument
      must be a string literal (adjacent literals and macros that expand to
      literals are fine) or a `static const char` constant holding one;
    - PQexec, PQexecParams, PQprepare, PQsendQuery*: the same for libpq;
    - psprintf, appendStringInfo*, snprintf, sprintf, strcat, strcpy must
      not write SQL: a format or string holding an SQL statement keyword
      (SELECT ... FROM, INSERT INTO, UPDATE ... SET, DELETE FROM, CREATE,
      DROP, ALTER, TRUNCATE, GRANT, COPY) fails.
  SQL (sql/pre_delinquency--*.sql)
    - dynamic SQL: EXECUTE (other than GRANT EXECUTE ON and a trigger's EXECUTE FUNCTION /
      PROCEDURE), format(...) and quote_ident/quote_literal in function
      bodies fail.

Usage: check_sql_strings.py [paths...]   (default: the project's sources)
Prints one line per finding (file:line: why) and exits 1 if there is any,
else prints a summary and exits 0.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# function -> index of the query argument
QUERY_ARG = {
    "SPI_execute": 0, "SPI_exec": 0, "SPI_execute_with_args": 0,
    "SPI_execute_extended": 0, "SPI_prepare": 0, "SPI_prepare_cursor": 0,
    "SPI_prepare_params": 0, "SPI_prepare_extended": 0,
    "SPI_cursor_open_with_args": 1, "SPI_cursor_parse_open": 1,
    "PQexec": 1, "PQexecParams": 1, "PQprepare": 2, "PQsendQuery": 1,
    "PQsendQueryParams": 1, "PQsendPrepare": 2,
}
# The project's own wrappers around those calls: function -> (index of the
# query argument, name of that parameter). Inside the wrapper the query is
# that parameter; every caller of the wrapper is checked instead, like a
# direct SPI call.
WRAPPERS = {
    "pd_execute_kept": (1, "sql"),
}
QUERY_ARG.update({name: index for name, (index, _) in WRAPPERS.items()})
BUILDERS = ("psprintf", "appendStringInfo", "appendStringInfoString",
            "appendBinaryStringInfo", "snprintf", "sprintf", "strcat",
            "strcpy", "strlcpy", "strlcat", "pnstrdup", "pstrdup")
SQL_WORDS = re.compile(
    r"\b(SELECT\b.*\bFROM|INSERT\s+INTO|UPDATE\s+\S+\s+SET|DELETE\s+FROM|"
    r"CREATE\s+(TABLE|INDEX|FUNCTION|ROLE|VIEW)|DROP\s+(TABLE|INDEX|FUNCTION|ROLE|VIEW)|"
    r"ALTER\s+(TABLE|ROLE|SYSTEM)|TRUNCATE\s|GRANT\s|COPY\s)", re.I | re.S)
STRING = r'"(?:[^"\\\n]|\\.)*"'
LITERALS_ONLY = re.compile(r"^\s*(?:(?:%s|[A-Z_][A-Z0-9_]*)\s*)+$" % STRING)


def strip_comments(text):
    """Comments become spaces (newlines kept so line numbers stay right)."""
    def blank(m):
        return re.sub(r"[^\n]", " ", m.group(0))
    return re.sub(r"/\*.*?\*/|//[^\n]*|" + STRING + r"|'(?:[^'\\\n]|\\.)*'",
                  lambda m: m.group(0) if m.group(0)[0] in "\"'" else blank(m),
                  text, flags=re.S)


def split_args(text, start):
    """Arguments of the call whose '(' is at text[start]; None if unbalanced."""
    depth, args, current, i = 0, [], [], start
    while i < len(text):
        c = text[i]
        if c == '"':
            m = re.compile(STRING).match(text, i)
            if m is None:
                return None
            current.append(m.group(0))
            i = m.end()
            continue
        if c == "'":
            m = re.compile(r"'(?:[^'\\\n]|\\.)*'").match(text, i)
            current.append(m.group(0) if m else c)
            i = m.end() if m else i + 1
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(current))
                return args
        elif c == "," and depth == 1:
            args.append("".join(current))
            current = []
            i += 1
            continue
        current.append(c)
        i += 1
    return None


def literal_constants(text):
    """Names bound to string literals: #define X "..." and static const char."""
    names = set()
    for m in re.finditer(r"^\s*#\s*define\s+([A-Za-z_]\w*)\s+((?:%s\s*|[A-Z_][A-Z0-9_]*\s*|\\\n\s*)+)$"
                         % STRING, text, re.M):
        names.add(m.group(1))
    for m in re.finditer(r"static\s+const\s+char\s*\*?\s*(?:const\s+)?([A-Za-z_]\w*)\s*(?:\[\s*\])?\s*=\s*([^;]*);",
                         text, re.S):
        if LITERALS_ONLY.match(m.group(2)):
            names.add(m.group(1))
    return names


CHECKED = [0]  # query arguments looked at


def check_c(path, findings):
    raw = open(path, encoding="utf-8", errors="replace").read()
    text = strip_comments(raw)
    constants = literal_constants(text)
    # a wrapper's own query parameter, where this file defines the wrapper
    passed_through = {param for name, (_, param) in WRAPPERS.items()
                      if re.search(r"^%s\s*\(" % name, text, re.M)}
    line_of = lambda pos: text.count("\n", 0, pos) + 1
    for m in re.finditer(r"\b([A-Za-z_]\w*)\s*\(", text):
        name, paren = m.group(1), m.end() - 1
        if name in QUERY_ARG:
            args = split_args(text, paren)
            if args is None or len(args) <= QUERY_ARG[name]:
                continue  # a declaration or a macro we cannot read
            query = args[QUERY_ARG[name]].strip()
            if name in WRAPPERS and re.fullmatch(r"(const\s+)?char\s*\*\s*\w+", query):
                continue  # the wrapper's own definition or declaration
            ident = re.fullmatch(r"[A-Za-z_]\w*", query)
            CHECKED[0] += 1
            if LITERALS_ONLY.match(query) or (ident and query in constants):
                continue
            if ident and query in passed_through and name.startswith("SPI_"):
                continue
            # a choice between two constants: cond ? "..." : "..."
            choice = re.fullmatch(r"[^?\"]+\?(.+):(.+)", query, re.S)
            if choice and all(LITERALS_ONLY.match(b) for b in choice.groups()):
                continue
            findings.append("%s:%d: %s with a query that is not a constant: %s"
                            % (path, line_of(m.start()), name, " ".join(query.split())[:60]))
        elif name in BUILDERS:
            args = split_args(text, paren)
            if args is None:
                continue
            literals = " ".join(re.findall(STRING, " ".join(args)))
            if SQL_WORDS.search(literals):
                findings.append("%s:%d: %s builds SQL text: %s"
                                % (path, line_of(m.start()), name, literals[:60]))


def check_sql(path, findings):
    text = open(path, encoding="utf-8", errors="replace").read()
    for n, line in enumerate(text.split("\n"), 1):
        code = line.split("--", 1)[0]
        if re.search(r"\bEXECUTE\b(?!\s+(FUNCTION|PROCEDURE|ON)\b)", code, re.I):
            findings.append("%s:%d: dynamic SQL (EXECUTE): %s" % (path, n, code.strip()[:60]))
        if re.search(r"\b(format|quote_ident|quote_literal|quote_nullable)\s*\(", code, re.I):
            findings.append("%s:%d: SQL text built with format/quote_*: %s"
                            % (path, n, code.strip()[:60]))


def default_paths():
    paths = []
    for d in ("src", "tools", "test"):
        for base, _, files in os.walk(os.path.join(ROOT, d)):
            if "/test/security/planted" in base + "/":
                continue
            paths += [os.path.join(base, f) for f in files if f.endswith((".c", ".h"))]
    sql = os.path.join(ROOT, "sql")
    paths += [os.path.join(sql, f) for f in os.listdir(sql)
              if f.startswith("pre_delinquency--") and f.endswith(".sql")]
    return sorted(paths)


def main():
    paths = sys.argv[1:] or default_paths()
    findings = []
    for p in paths:
        (check_sql if p.endswith(".sql") else check_c)(p, findings)
    for f in findings:
        print(f)
    if findings:
        print("%d place(s) build SQL from strings: pass values as parameters "
              "(SPI_execute_with_args, PQexecParams) instead." % len(findings))
        return 1
    print("no SQL built from strings: %d files, %d query arguments, all constants"
          % (len(paths), CHECKED[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
