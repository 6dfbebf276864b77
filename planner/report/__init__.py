"""Layer 6, report: what people read — the HTML report, its charts, and the files a job writes.

=========  ==============================================================
``figures``  the charts (matplotlib), labelled with units
``html``     one self-contained HTML page per plan, its PNGs, report.xlsx
``files``    what a job writes into an output folder
=========  ==============================================================
"""
