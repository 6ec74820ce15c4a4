"""Coaching: agent reports over a period, team and department trends, the coaching log, exports.

    generate.py  a realistic multi-week history of scored calls (for the demo and the tests)
    report.py    an agent's coaching report and the team/department trends, from the read layer
    charts.py    the report's charts (matplotlib, static SVG)
    render.py    the report as HTML (one template for the file, the PDF and the web page) and PDF

Every figure comes from `pipeline.store.reads` (the coaching block at its end): the CLI, the web
pages and the PDF read the same queries, on final results (reviewed where a person decided).
"""
