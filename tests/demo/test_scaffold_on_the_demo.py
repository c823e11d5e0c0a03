"""The scaffolding on the demo department: wiring into its hand-written flows, prompting for its names."""

from __future__ import annotations

import argparse

from helpers import PROJECT_ROOT

from flows.scaffolding.python_edit import add_before_return, add_import, add_parameter


def test_wiring_into_a_hand_written_stage_flow_is_sorted_and_idempotent():
    source = (PROJECT_ROOT / "flows/dept_demo/processing_flow_dept_demo.py").read_text()
    function = "processing_flow_dept_demo"
    wired = add_import(source, "flows.dept_demo.processing.dedupe.dedupe_flow_dept_demo", "dedupe_flow_dept_demo")
    wired = add_parameter(wired, function, "run_dedupe: bool = True", "processing")
    call = '        results["dedupe"] = dedupe_flow_dept_demo()'
    wired = add_before_return(wired, function, ["    if run_dedupe:", call], "dedupe_flow_dept_demo", "processing")
    lines = wired.splitlines()
    imports = [line for line in lines if line.startswith("from flows.")]
    assert imports == sorted(imports) and len(imports) == 5
    assert f"def {function}(run_cleaning: bool = True, run_features: bool = True, run_dedupe: bool = True)" in wired
    assert lines.index(call) == lines.index("    return results") - 1
    again = add_import(wired, "flows.dept_demo.processing.dedupe.dedupe_flow_dept_demo", "dedupe_flow_dept_demo")
    again = add_parameter(again, function, "run_dedupe: bool = True", "processing")
    assert add_before_return(again, function, ["    x"], "dedupe_flow_dept_demo", "processing") == wired


def test_in_a_terminal_what_is_missing_is_asked_for(monkeypatch, capsys):
    from flows.scaffolding.cli import add_arguments, run

    answers = iter(["Tide Gauges", "demo", "processing"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    parser = argparse.ArgumentParser()
    add_arguments(parser, "category")
    assert run("category", parser.parse_args(["--dry-run", "--root", str(PROJECT_ROOT)]), interactive=True) == 0
    planned = capsys.readouterr().out
    assert "create flows/dept_demo/processing/tide_gauges/tide_gauges_flow_dept_demo.py" in planned
    assert "change flows/dept_demo/processing_flow_dept_demo.py" in planned
    assert not (PROJECT_ROOT / "flows/dept_demo/processing/tide_gauges").exists(), "a dry run writes nothing"
