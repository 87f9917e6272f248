"""Signature-preserving decorators, as prometheus_client.decorator provides them.

A wrapper made here is a real function compiled with the decorated function's own parameter
list: ``inspect.signature``, :func:`getargspec` and the ``TypeError`` of a bad call are the
original's, and a call with bad arguments fails before the caller runs. The caller receives the
arguments bound as the function would bind them: positional parameters positionally, with their
defaults filled in, keyword-only parameters by keyword.

    >>> def trace(func, *args, **kwargs):
    ...     return func(*args, **kwargs)
    >>> def f(a, b=2, *, c=3):
    ...     return a + b + c
    >>> g = decorate(f, trace)
    >>> getargspec(g) == getargspec(f), g(1)
    (True, 6)
"""

import contextlib
import inspect
import itertools
import operator
import re
import sys
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Set, Tuple

__all__ = [
    "ArgSpec",
    "ContextManager",
    "DEF",
    "FunctionMaker",
    "append",
    "contextmanager",
    "decorate",
    "decorator",
    "dispatch_on",
    "get_init",
    "getargspec",
]


class ArgSpec(NamedTuple):
    """The four fields of the ``inspect.getargspec`` that Python 3.11 removed."""

    args: List[str]
    varargs: Optional[str]
    varkw: Optional[str]
    defaults: Optional[Tuple[Any, ...]]


def getargspec(f: Callable[..., Any]) -> ArgSpec:
    """``f``'s positional parameter names, ``*`` and ``**`` names, and defaults."""
    spec = inspect.getfullargspec(f)
    return ArgSpec(spec.args, spec.varargs, spec.varkw, spec.defaults)


def get_init(cls: type) -> Callable[..., None]:
    """The ``__init__`` of a class."""
    init: Callable[..., None] = getattr(cls, "__init__")
    return init


#: The head of a function template: ``def name(`` (or ``async def name(``), the name captured.
DEF = re.compile(r"\s*(?:async\s+)?def\s*(\w+)\s*\(")

# Names a template may bind in its namespace; a parameter of the same name would hide them.
_RESERVED = ("_func_", "_call_")


class FunctionMaker:
    """Compiles a function from a template with a chosen name and parameter list.

    Made from a function, it takes that function's ``name``, ``doc``, ``module``, ``dict``,
    ``annotations`` and the fields of ``inspect.getfullargspec`` (plus ``arg0``, ``arg1``... for
    the positional names), and renders its parameters twice: ``signature``, the parameter list
    of a ``def`` (``a, b=..., *args, k, **kw`` written without default values, which are set on
    the compiled function afterwards), and ``shortsignature``, the arguments that pass them all
    on (``a, b, *args, k=k, **kw``). Templates are ``%``-formatted with these attributes.
    """

    # next() on itertools.count is atomic under the GIL and in free-threaded builds alike.
    _compile_count = itertools.count()

    name: str
    doc: Optional[str]
    module: str
    signature: str
    shortsignature: Optional[str]
    args: List[str]
    varargs: Optional[str]
    varkw: Optional[str]
    defaults: Optional[Tuple[Any, ...]]
    kwonlyargs: List[str]
    kwonlydefaults: Optional[Dict[str, Any]]
    annotations: Dict[str, Any]
    dict: Dict[str, Any]

    def __init__(
        self,
        func: Optional[Callable[..., Any]] = None,
        name: Optional[str] = None,
        signature: Optional[str] = None,
        defaults: Optional[Tuple[Any, ...]] = None,
        doc: Optional[str] = None,
        module: Optional[str] = None,
        funcdict: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.shortsignature = signature
        if func is not None:
            # A class or any callable gives its name, doc and module; only a function its parameters.
            self.name = "_lambda_" if func.__name__ == "<lambda>" else func.__name__
            self.doc = func.__doc__
            self.module = func.__module__
            if inspect.isfunction(func):
                self._take_parameters(func)
        if name:
            self.name = name
        if signature is not None:
            self.signature = signature
        if defaults:
            self.defaults = defaults
        if doc:
            self.doc = doc
        if module:
            self.module = module
        if funcdict:
            self.dict = funcdict
        if not hasattr(self, "name"):
            raise TypeError("FunctionMaker needs a function or a name")
        if not hasattr(self, "signature"):
            raise TypeError(f"You are decorating a non function: {func}")

    def _take_parameters(self, func: Callable[..., Any]) -> None:
        spec = inspect.getfullargspec(func)
        self.args = spec.args
        self.varargs = spec.varargs
        self.varkw = spec.varkw
        self.defaults = spec.defaults
        self.kwonlyargs = spec.kwonlyargs
        self.kwonlydefaults = spec.kwonlydefaults
        self.annotations = getattr(func, "__annotations__", {})
        for index, arg in enumerate(self.args):
            setattr(self, f"arg{index}", arg)
        parameters = inspect.signature(func, follow_wrapped=False).parameters.values()
        positional_only = sum(p.kind is inspect.Parameter.POSITIONAL_ONLY for p in parameters)
        declared = list(self.args)
        if positional_only:
            declared.insert(positional_only, "/")
        forwarded = list(self.args)
        if self.varargs:
            declared.append("*" + self.varargs)
            forwarded.append("*" + self.varargs)
        elif self.kwonlyargs:
            declared.append("*")
        for arg in self.kwonlyargs:
            # A placeholder default; the real ones (or none) come from __kwdefaults__.
            declared.append(f"{arg}=None")
            forwarded.append(f"{arg}={arg}")
        if self.varkw:
            declared.append("**" + self.varkw)
            forwarded.append("**" + self.varkw)
        self.signature = ", ".join(declared)
        self.shortsignature = ", ".join(forwarded)
        self.dict = func.__dict__.copy()

    def update(self, func: Any, **kw: Any) -> None:
        """Gives ``func`` this maker's name, doc, attributes, defaults, annotations and module,
        then the attributes ``kw``."""
        func.__name__ = self.name
        func.__doc__ = getattr(self, "doc", None)
        func.__dict__ = getattr(self, "dict", {})
        func.__defaults__ = getattr(self, "defaults", None)
        func.__kwdefaults__ = getattr(self, "kwonlydefaults", None)
        func.__annotations__ = getattr(self, "annotations", None) or {}
        func.__module__ = getattr(self, "module", None) or _calling_module()
        func.__dict__.update(kw)

    def make(self, src_templ: str, evaldict: Optional[Dict[str, Any]] = None, addsource: bool = False, **attrs: Any) -> Any:
        """Compiles the template, formatted with this maker's attributes, in ``evaldict`` and
        returns the function it defines, updated (see :meth:`update`); with ``addsource`` the
        source is kept as ``__source__``."""
        src = src_templ % vars(self)
        evaldict = evaldict or {}
        head = DEF.match(src)
        if head is None:
            raise SyntaxError(f"not a valid function template\n{src}")
        name = head.group(1)
        names = {name, *(arg.strip(" *") for arg in (self.shortsignature or "").split(","))}
        for reserved in _RESERVED:
            if reserved in names:
                raise NameError(f"{reserved} is overridden in\n{src}")
        if not src.endswith("\n"):
            src += "\n"
        # A file name of its own per function keeps profilers from merging them.
        filename = f"<decorator-gen-{next(self._compile_count)}>"
        try:
            exec(compile(src, filename, "single"), evaldict)
        except BaseException as error:
            error.add_note(f"in generated code:\n{src}")
            raise
        func = evaldict[name]
        if addsource:
            attrs["__source__"] = src
        self.update(func, **attrs)
        return func

    @classmethod
    def create(
        cls,
        obj: Any,
        body: str,
        evaldict: Dict[str, Any],
        defaults: Optional[Tuple[Any, ...]] = None,
        doc: Optional[str] = None,
        module: Optional[str] = None,
        addsource: bool = True,
        **attrs: Any,
    ) -> Any:
        """A function named and shaped after ``obj`` (a function, or a ``"name(signature)"``
        string) whose body is ``body``, compiled in ``evaldict``."""
        if isinstance(obj, str):
            name, rest = obj.strip().split("(", 1)
            maker = cls(None, name, rest[:-1], defaults, doc, module)
        else:
            maker = cls(obj, None, None, defaults, doc, module)
        indented = "\n".join("    " + line for line in body.splitlines())
        return maker.make("def %(name)s(%(signature)s):\n" + indented, evaldict, addsource, **attrs)


def _calling_module() -> str:
    """The module of the first frame outside this one: where a function made from a bare
    ``"name(signature)"`` is said to come from."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__") == __name__:
        frame = frame.f_back  # type: ignore[assignment]
    return str(frame.f_globals.get("__name__", "?")) if frame is not None else "?"


def decorate(func: Callable[..., Any], caller: Callable[..., Any]) -> Any:
    """A function with ``func``'s name, signature and attributes whose calls are
    ``caller(func, *args, **kwargs)``."""
    wrapper = FunctionMaker.create(
        func, "return _call_(_func_, %(shortsignature)s)", {"_call_": caller, "_func_": func}, __wrapped__=func
    )
    if hasattr(func, "__qualname__"):
        wrapper.__qualname__ = func.__qualname__
    return wrapper


def decorator(caller: Callable[..., Any], _func: Optional[Callable[..., Any]] = None) -> Any:
    """Turns ``caller(func, *args, **kwargs)`` into a decorator: ``decorator(caller)(f)`` is
    ``decorate(f, caller)``. Given ``_func`` too, decorates it at once."""
    if _func is not None:
        return decorate(_func, caller)
    if inspect.isclass(caller):
        name = caller.__name__.lower()
        doc: Optional[str] = (
            f"decorator({caller.__name__}) turns functions and generators into factories of "
            f"{caller.__name__} objects"
        )
    elif inspect.isfunction(caller):
        name = "_lambda_" if caller.__name__ == "<lambda>" else caller.__name__
        doc = caller.__doc__
    else:
        name = type(caller).__name__.lower()
        doc = type(caller).__call__.__doc__
    return FunctionMaker.create(
        f"{name}(func)",
        "return _decorate_(func, _call_)",
        {"_call_": caller, "_decorate_": decorate},
        doc=doc,
        module=caller.__module__,
        __wrapped__=caller,
    )


class ContextManager(contextlib._GeneratorContextManager[Any]):
    """What :func:`contextmanager` makes: a generator-based context manager that also
    decorates functions, keeping their signatures."""

    def __init__(self, g: Callable[..., Any], *a: Any, **k: Any) -> None:
        super().__init__(g, a, k)

    def _recreate_cm(self) -> "ContextManager":
        # Each decorated call needs a generator of its own: one is spent per use.
        return type(self)(self.func, *self.args, **self.kwds)

    def __call__(self, func: Callable[..., Any]) -> Any:
        """Decorates ``func``: each call runs inside a fresh copy of this context manager."""
        return FunctionMaker.create(
            func,
            "with _self_._recreate_cm():\n    return _func_(%(shortsignature)s)",
            {"_self_": self, "_func_": func},
            __wrapped__=func,
        )


contextmanager = decorator(ContextManager)


def append(a: type, vancestors: List[type]) -> None:
    """Adds the class ``a`` to the list of virtual ancestors unless a subclass of it is listed
    already; a listed superclass of ``a`` is replaced by ``a``."""
    for index, listed in enumerate(vancestors):
        if issubclass(listed, a):
            return
        if issubclass(a, listed):
            vancestors[index] = a
            return
    vancestors.append(a)


def dispatch_on(*dispatch_args: str) -> Callable[[Callable[..., Any]], Any]:
    """A decorator that makes a function generic on the types of the named arguments.

    The decorated function is the default implementation; ``f.register(*types)`` decorates
    the implementation for those types. A call picks the implementation registered for the
    arguments' types, else for their ancestors in MRO order, counting classes they are
    registered with as ABCs (``f.dispatch_info(*types)`` lists the order tried); more than one
    such virtual ancestor for an argument raises ``RuntimeError``.
    """
    assert dispatch_args, "No dispatch args passed"
    dispatch_str = f"({', '.join(dispatch_args)},)"
    arity = len(dispatch_args)

    def check(arguments: Sequence[Any], wrong: Callable[[int, int], bool] = operator.ne, msg: str = "") -> None:
        if wrong(len(arguments), arity):
            raise TypeError(f"Expected {arity} arguments, got {len(arguments)}{msg}")

    def gen_func_dec(func: Callable[..., Any]) -> Any:
        if not set(dispatch_args) <= set(inspect.getfullargspec(func).args):
            raise NameError(f"Unknown dispatch arguments {dispatch_str}")
        typemap: Dict[Tuple[type, ...], Callable[..., Any]] = {}

        def vancestors(*types: type) -> List[Set[type]]:
            """For each type, the registered types it is a virtual (ABC) subclass of."""
            check(types)
            found: List[List[type]] = [[] for _ in dispatch_args]
            for registered in typemap:
                for t, candidate, listed in zip(types, registered, found):
                    if issubclass(t, candidate) and candidate not in t.__mro__:
                        append(candidate, listed)
            return [set(listed) for listed in found]

        def ancestors(*types: type) -> List[Tuple[type, ...]]:
            """For each type, the classes tried in order: its MRO with its virtual ancestor
            woven in, ``object`` left out."""
            check(types)
            orders = []
            for t, virtual in zip(types, vancestors(*types)):
                if len(virtual) > 1:
                    raise RuntimeError(f"Ambiguous dispatch for {t}: {virtual}")
                if virtual:
                    (ancestor,) = virtual
                    mro = type("t", (t, ancestor), {}).__mro__[1:]
                else:
                    mro = t.__mro__
                orders.append(mro[:-1])
            return orders

        def register(*types: type) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
            """Decorates the implementation for these types."""
            check(types)

            def add(f: Callable[..., Any]) -> Callable[..., Any]:
                check(inspect.getfullargspec(f).args, operator.lt, " in " + f.__name__)
                typemap[types] = f
                return f

            return add

        def dispatch_info(*types: type) -> List[Tuple[str, ...]]:
            """The type-name combinations a call with these types tries, in order."""
            check(types)
            return [tuple(t.__name__ for t in combination) for combination in itertools.product(*ancestors(*types))]

        def dispatch(values: Iterable[Any], *args: Any, **kw: Any) -> Any:
            types = tuple(type(value) for value in values)
            implementation = typemap.get(types)
            if implementation is None:
                combinations = itertools.product(*ancestors(*types))
                next(combinations)  # the exact types, looked up already
                for combination in combinations:
                    implementation = typemap.get(combination)
                    if implementation is not None:
                        break
                else:
                    implementation = func
            return implementation(*args, **kw)

        return FunctionMaker.create(
            func,
            f"return _f_({dispatch_str}, %(shortsignature)s)",
            {"_f_": dispatch},
            register=register,
            default=func,
            typemap=typemap,
            vancestors=vancestors,
            ancestors=ancestors,
            dispatch_info=dispatch_info,
            __wrapped__=func,
        )

    gen_func_dec.__name__ = "dispatch_on" + dispatch_str
    return gen_func_dec

