"""Ask spaCy for each of our names in a fresh interpreter that never imports arch.

Reads a JSON list of {"group", "name", "config"} on stdin; writes a JSON list of
results on stdout. Before each lookup every arch_* module is dropped from
sys.modules, so the only way spaCy can get our function is the entry point.
For each name:

* ``get``: the module and qualified name of ``spacy.util.registry.get(registry, name)``;
* ``resolve`` (when a config is given): the arch functions that ran while
  ``spacy.util.registry.resolve(config)`` built it (traced with sys.setprofile).
"""

import json
import sys


def arch_modules():
    return sorted(m for m in sys.modules if m.split(".")[0].startswith("arch_"))


def purge():
    for name in arch_modules():
        del sys.modules[name]


def main():
    at_start = arch_modules()
    import spacy
    from thinc.api import Config

    after_spacy = arch_modules()
    items = json.load(sys.stdin)
    out = []
    for item in items:
        result = {
            "name": item["name"],
            "group": item["group"],
            "at_start": at_start,
            "after_import_spacy": after_spacy,
        }
        registry = item["group"].split("_", 1)[1]
        if registry not in spacy.util.registry.get_registry_names():
            result["no_registry"] = registry
            out.append(result)
            continue
        purge()
        result["before_get"] = arch_modules()
        try:
            func = spacy.util.registry.get(registry, item["name"])
            result["get"] = [func.__module__, func.__qualname__]
        except Exception as err:  # reported, the test fails on it
            result["get_error"] = f"{type(err).__name__}: {err}"
        if item.get("config"):
            purge()
            result["before_resolve"] = arch_modules()
            calls = set()

            def profile(frame, event, arg, calls=calls):
                if event == "call":
                    module = frame.f_globals.get("__name__", "")
                    if module.startswith("arch_"):
                        calls.add((module, frame.f_code.co_name))

            sys.setprofile(profile)
            try:
                spacy.util.registry.resolve(Config().from_str(item["config"]))
            except Exception as err:
                result["resolve_error"] = f"{type(err).__name__}: {err}"
            finally:
                sys.setprofile(None)
            result["resolve_calls"] = sorted(calls)
        out.append(result)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
