"""The registry of constraint families: built-in, optional and the analyst's own.

A family is a Python module (a file) that defines:

==================  ===========================================================
``NAME``            the family's name, used in run options (``str``)
``SUMMARY``         one line saying what it does (``str``)
``build(m, inst, params)``
                    adds its variables, constraints and profit terms to the
                    Pyomo model ``m`` for the validated instance ``inst``
``Params``          optional: a pydantic model of its parameters (defaults,
                    units and descriptions in ``Field``); none = no parameters
``verify(inst, plan, params)``
                    optional: checks its rule on a plan from the plan tables with
                    pandas alone (``plan`` is a :class:`~planner.contract.checks.PlanView`)
                    and returns a :class:`FamilyCheck` (rules broken, profit terms
                    recomputed); the independent verifier runs every family's check
``extract(m, inst)``
                    optional: what its variables contribute to the plan tables,
                    ``{table: DataFrame}`` keyed like the table (``inventory.py``'s
                    safety stock, ``orders.py``'s orders)
``tidy(m)``         optional: cleans a time-limited incumbent (see ``orders.py``)
``precheck(inst, params)``
                    optional: what in its parameters this instance cannot hold
                    (a name it does not know), as ``[(parameter, message)]``;
                    checked with the data, before anything is stored or built
``KEEPS_ORDER_BOUND``
                    optional, default False: True when cutting an order that is
                    more than its product can still use (sell, or hold as some
                    family requires) never breaks this family's rows nor raises
                    its costs; only then may orders get the tight "usable"
                    big-M (``Instance.order_slots``). A user family that does not
                    say so switches that bound off: slower, never wrong.
``max_stock(inst, params)``
                    optional: {product: the most end-of-period stock this
                    family's rows can require} (safety stock, cover)
``order_floor(inst, params)``
                    optional: {(supplier, product, t): a quantity this family
                    may fix the order at} (frozen_periods)
``DEFAULT_ON``      optional, default False: built unless switched off
``CAN_DISABLE``     optional, default True: may be switched off in run options
``REPLACES_BUILTIN``
                    optional, default False: a user family with the name of a
                    built-in family replaces it (its place in the build order,
                    and its DEFAULT_ON and CAN_DISABLE unless it sets its own)
==================  ===========================================================

Its module docstring is its documentation: the algebra in plain notation, the
data it reads and what each parameter means (``planner models show NAME``).

Run options select families and set parameters::

    {"constraints": {"max_supplier_share": {"share": 0.6}, "single_sourcing": {}, "budget": false}}

``{}`` or a parameter object switches a family on, ``false`` switches a
default-on family off. User families are loaded from the folders the faces
pass in (``--models``, or ``PLANNER_MODELS_PATH`` read once by the faces'
settings); this module reads no environment.
Every mistake — an unknown name, a bad parameter, a file that fails to import
or a family that fails to build or builds something that is not a linear
constraint — is reported as an :class:`OptionsError` naming the file and the
family, before anything is solved.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator

from pydantic import BaseModel, ConfigDict, ValidationError

from planner.contract.problems import OptionsError, Problem


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass
class Family:
    name: str
    summary: str
    doc: str
    build: Callable
    params: type[BaseModel]
    default_on: bool
    can_disable: bool
    source: str
    verify: Callable | None = None
    extract: Callable | None = None
    tidy: Callable | None = None
    precheck: Callable | None = None
    keeps_order_bound: bool = False
    max_stock: Callable | None = None
    order_floor: Callable | None = None
    replaces_builtin: bool = False
    module: ModuleType | None = None

    @property
    def builtin(self) -> bool:
        return self.source.startswith("models.")

    @property
    def origin(self) -> str:
        """Where the family comes from as messages name it: its module, or its file's name
        (never the folder: a message can reach a client of the service)."""
        return self.source if self.builtin else Path(self.source).name

    def param_table(self) -> list[tuple[str, str, str, str]]:
        """(name, default, unit, description) of each parameter."""
        rows = []
        for name, f in self.params.model_fields.items():
            unit = (f.json_schema_extra or {}).get("unit", "") if isinstance(f.json_schema_extra, dict) else ""
            default = "required" if f.is_required() else repr(f.default)
            rows.append((name, default, unit, f.description or ""))
        return rows


def _problem(where: str, message: str, column: str | None = None) -> Problem:
    return Problem("error", where, None, column, message)


def family_from_module(module: ModuleType, source: str) -> Family:
    missing = [a for a in ("NAME", "SUMMARY", "build") if not hasattr(module, a)]
    if missing:
        raise OptionsError([_problem(f"model file {Path(source).name}", f"does not define {', '.join(missing)} (see `planner models show` and docs/model-guide.md)")])
    params = getattr(module, "Params", NoParams)
    if not (isinstance(params, type) and issubclass(params, BaseModel)):
        raise OptionsError([_problem(f"model file {Path(source).name}", f"family {module.NAME!r}: Params must be a pydantic BaseModel")])
    if len(inspect.signature(module.build).parameters) != 3:
        raise OptionsError([_problem(f"model file {Path(source).name}", f"family {module.NAME!r}: build must take (m, inst, params)")])
    return Family(
        name=str(module.NAME),
        summary=str(module.SUMMARY),
        doc=inspect.cleandoc(module.__doc__ or ""),
        build=module.build,
        params=params,
        default_on=bool(getattr(module, "DEFAULT_ON", False)),
        can_disable=bool(getattr(module, "CAN_DISABLE", True)),
        source=source,
        verify=getattr(module, "verify", None),
        extract=getattr(module, "extract", None),
        tidy=getattr(module, "tidy", None),
        precheck=getattr(module, "precheck", None),
        keeps_order_bound=bool(getattr(module, "KEEPS_ORDER_BOUND", False)),
        max_stock=getattr(module, "max_stock", None),
        order_floor=getattr(module, "order_floor", None),
        replaces_builtin=bool(getattr(module, "REPLACES_BUILTIN", False)),
        module=module,
    )


def load_family_file(path: Path) -> Family:
    """Import one user model file as a family (a clear error if it cannot be)."""
    digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    mod_name = f"planner_user_models.{path.stem}_{digest}"
    try:
        spec = importlib.util.spec_from_file_location(mod_name, path)
        if spec is None or spec.loader is None:
            raise ImportError("not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)
    except Exception as exc:  # a user's file can raise anything on import
        sys.modules.pop(mod_name, None)
        raise OptionsError([_problem(f"model file {path.name}", f"failed to load: {type(exc).__name__}: {exc}")]) from exc
    return family_from_module(module, str(path))


def load_registry(builtin: list[ModuleType], user_dirs: list[str | Path] | None = None) -> dict[str, Family]:
    """Built-in families, then every ``*.py`` in the user model folders (a user family that
    replaces a built-in one takes its place in the order)."""
    registry: dict[str, Family] = {}
    for module in builtin:
        fam = family_from_module(module, module.__name__)
        registry[fam.name] = fam
    problems: list[Problem] = []
    for d in [Path(p) for p in user_dirs or []]:
        if not d.is_dir():
            problems.append(_problem(f"model folder {d}", "is not a folder"))
            continue
        for path in sorted(d.glob("*.py")):
            if path.name.startswith("_"):
                continue
            try:
                fam = load_family_file(path)
            except OptionsError as exc:
                problems.extend(exc.problems)
                continue
            taken = registry.get(fam.name)
            if taken is not None and not (fam.replaces_builtin and taken.builtin):
                hint = " (a file that replaces a built-in family says REPLACES_BUILTIN = True)" if taken.builtin else ""
                problems.append(_problem(f"model file {path.name}", f"family name {fam.name!r} is already defined by {taken.origin}{hint}"))
                continue
            if taken is not None:  # the built-in's place in the order, and its defaults unless the file sets its own
                fam = replace(
                    fam,
                    default_on=bool(getattr(fam.module, "DEFAULT_ON", taken.default_on)),
                    can_disable=bool(getattr(fam.module, "CAN_DISABLE", taken.can_disable)),
                )
            registry[fam.name] = fam
    if problems:
        raise OptionsError(problems)
    return registry


#: No family parameter may exceed this in size: it keeps every coefficient and profit term the
#: model builds from one finite (the contract's own limits are in planner.contract.inputs).
MAX_PARAMETER = 1e12


def _numbers(value: Any, loc: str = "") -> Iterator[tuple[str, float]]:
    """Every number in a parameter document, with where it sits."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield loc, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{loc}.{k}" if loc else str(k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{loc}.{i}" if loc else str(i))


def _booleans_as_numbers(model: type[BaseModel], data: Any, loc: str = "") -> Iterator[str]:
    """Where a true/false was given for a number (pydantic would read it as 1 or 0)."""
    if not isinstance(data, dict):
        return
    for name, f in model.model_fields.items():
        if name not in data:
            continue
        value, here = data[name], f"{loc}.{name}" if loc else name
        kinds = set(getattr(f.annotation, "__args__", ()) or (f.annotation,))
        if isinstance(value, bool) and kinds & {int, float} and bool not in kinds:
            yield here
        for kind in kinds:  # rows of a nested model, as frozen_periods' previous orders
            inner = getattr(kind, "__args__", (kind,))[0] if getattr(kind, "__origin__", None) is list else kind
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                for i, item in enumerate(value if isinstance(value, list) else [value]):
                    yield from _booleans_as_numbers(inner, item, f"{here}.{i}" if isinstance(value, list) else here)


def resolve(registry: dict[str, Family], options: dict[str, Any] | None) -> list[tuple[Family, BaseModel]]:
    """The families to build, in registry order, each with its validated parameters."""
    options = options or {}
    problems: list[Problem] = []
    if not isinstance(options, dict):
        raise OptionsError([_problem("options", "must be an object such as {\"constraints\": {...}}")])
    unknown_keys = set(options) - {"constraints"}
    for k in sorted(unknown_keys):
        problems.append(_problem("options", "unknown option (expected: constraints)", k))
    chosen = options.get("constraints") or {}
    if not isinstance(chosen, dict):
        problems.append(_problem("options", "must be an object: family name -> parameters, or false to switch off", "constraints"))
        chosen = {}
    for name in chosen:
        if name not in registry:
            problems.append(_problem("options", f"unknown constraint family {name!r} (known: {', '.join(sorted(registry))})", f"constraints.{name}"))
    out: list[tuple[Family, BaseModel]] = []
    for name, fam in registry.items():
        setting = chosen.get(name, None)
        if setting is False:
            if not fam.can_disable:
                problems.append(_problem("options", f"family {name!r} is part of the core model and cannot be switched off", f"constraints.{name}"))
            continue
        if setting is None and not fam.default_on:
            continue
        if setting is True or setting is None:
            setting = {}
        if not isinstance(setting, dict):
            problems.append(_problem("options", "must be an object of parameters, {} or false", f"constraints.{name}"))
            continue
        where = f"family {name!r} ({fam.origin})"
        mistakes = [(loc, "true/false is not a number") for loc in _booleans_as_numbers(fam.params, setting)]
        try:
            params = fam.params.model_validate(setting)
        except ValidationError as exc:
            mistakes += [(".".join(str(x) for x in e["loc"]), "unknown parameter" if e["type"] == "extra_forbidden" else e["msg"]) for e in exc.errors()]
            params = None
        if params is not None:
            mistakes += [(loc, f"{value!r} is outside what a plan can compute with (|x| at most {MAX_PARAMETER:g})")
                         for loc, value in _numbers(params.model_dump()) if not abs(value) <= MAX_PARAMETER]
        for loc, msg in mistakes:
            problems.append(_problem("options", f"{where}: {msg}", f"constraints.{name}.{loc}" if loc else f"constraints.{name}"))
        if params is not None and not mistakes:
            out.append((fam, params))
    if problems:
        raise OptionsError(problems)
    # the objective adds up the profit terms every other family registers: built, and checked, last
    out.sort(key=lambda pair: pair[0].name == "objective")
    return out
