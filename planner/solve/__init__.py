"""Layer 3, solve: a model built from the families, handed to HiGHS, and the plan read back.

==================  ==============================================================
``standard_form``   the model compiled once into sparse arrays (HiGHS's form)
``highs``           HiGHS embedded: the search, the polish LP, the outcome as a status
``start``           a construction heuristic: a plan before the search starts
``improve``         fix-and-optimise beside HiGHS on large models
``extract``         the plan tables and KPIs out of a solved model (through the families)
``diagnose``        why a run is infeasible: the cheapest relaxation, named
``duals``           what one more unit of a limit is worth
==================  ==============================================================

Imports the contract and the families (``models``); knows nothing of the
verifier, the analyses or the faces.
"""
