"""planner: joint demand-supply planning.

The package is in layers, each a folder; a module imports only from its own
layer and the layers below it (``tests/test_architecture.py`` enforces this
with import-linter):

=========================  =======================================================
``planner/cli``, ``api/``  faces: parse a command or a request, call the job layer, render
``planner/jobs``           one entry point for every kind of work: ``jobs.run(request)``
``planner/report``         HTML report, charts, the files a run writes
``planner/analysis``       value of integration, frontier, scenarios, comparisons, profitability
``planner/verify``         the independent verifier: every family's check on the plan tables
``planner/solve``          standard form, HiGHS, heuristic start, fix-and-optimise, extraction
``models/``                the constraint families (Pyomo), one per file: what analysts edit
``planner/contract``       input and output tables with units, loading, validation, the instance
=========================  =======================================================
"""
