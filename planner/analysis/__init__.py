"""Layer 5, analysis: decisions read off plans — what integration earns, what service costs, what changes.

=================  ==================================================================
``integration``    the same instance planned CRM-led, SCM-led and integrated, side by side
``frontier``       profit against overall fill rate and inventory as a service floor rises
``scenario``       named what-if changes to an instance's tables
``compare``        what changed between two plans: orders, tiers, volumes, KPIs
``reasons``        why each segment got its tier (its profit with each other tier imposed)
``profitability``  profit per segment (and customer) with every cost of the plan allocated
=================  ==================================================================

An analysis that needs plans gets them from a :data:`~planner.analysis.common.Planner`
— a function that plans an instance under given model options — which the job
layer passes in (its verified solve); nothing here builds or solves a model.
"""
