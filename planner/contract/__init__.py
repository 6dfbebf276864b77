"""Layer 1, the contract: what goes in and what comes out, declared once with units.

=================  ===============================================================
``inputs``         every input table and column (pydantic rows with units)
``outputs``        every plan table, column and KPI (the same way)
``loading``        CSV folders, XLSX workbooks, JSON documents, uploaded files -> raw tables
``validation``     raw tables -> :class:`Instance`, or every problem at once
``instance``       the validated instance and what every layer derives from it alike
``results``        :class:`Plan` and a job's :class:`Result`; writing and reading plans
``checks``         what a family's check reads (:class:`PlanView`) and answers
``problems``       :class:`Problem` (table, row, column, message) and the errors carrying them
``docs``           the contract as the README's Markdown
=================  ===============================================================

Imports nothing else of planner (the test suite checks the layers); every other
layer imports it.
"""
