"""The receipt of a restore drill (issue 15 §2): one tag on the SOURCE database per drill, rewritten by every run.

A drill recurs, so unlike a one-shot receipt (receipt_tags.py) its tag is overwritten by each run, written ahead
of each step, within the same tag rules (API-NOTES §9, §11: lowercase, `- _ . + @ :`, values under 128):

    key   rcr_drill_<id>                          e.g. rcr_drill_weekly
    value v1 <phase> run:<8 hex> at:<epoch s> up:<s> [ok:<epoch s>] [step:<step>] [age:<s>]
             [d:<backup>_<list>_<import>_<verify>] [keys:<n>] [src:<n>] [why:<word>]
          e.g. v1 passed run:0c1d2e3f at:1764312600 up:41 ok:1764312600 step:verify age:3 d:12.5_0.2_27.9_0.1
               keys:100000 src:100000

`at` is when the run started and `up` how many seconds later it last wrote the tag (runner's clock); `ok` the
start of the last run that passed (kept across runs, so a failed run never hides how old the last proof is);
`step` the step it is in (`running`) or stopped at; `d` the seconds the backup, listing, import and
verification took, in that order (as many as ran); `age` the age of the restored data when its import started
(seconds since the backup was asked for); `keys` and `src` the keys counted in the scratch database and in the
source; `why` a one-word reason (the API's own, `file-corrupted`, where it gave one). A `running` receipt whose
last write is older than the run's lease is a run that died: interrupted. It never says `passed` unless
verification passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from enum import StrEnum

from reconciler.core.live import LiveTag
from reconciler.core.receipt_tags import ALLOWED, DRILL_KEY_PREFIX, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, VALUE_VERSION
from reconciler.errors import ReceiptError


class DrillPhase(StrEnum):
    RUNNING = "running"
    PASSED = "passed"
    FAILED = "failed"
    INTERRUPTED = "interrupted"  # its run died, or was stopped, mid-way: what it proved is unknown


class Step(StrEnum):
    BACKUP = "backup"
    LIST = "list"
    IMPORT = "import"
    VERIFY = "verify"


_WORD = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
_VALUE = re.compile(r"^v1 (running|passed|failed|interrupted)((?: [a-z]+:[a-z0-9_.-]+)*)$")
_INT_FIELDS = ("at", "up", "ok", "age", "keys", "src")


@dataclass(frozen=True, slots=True)
class DrillReceipt:
    drill_id: str
    phase: DrillPhase
    run: str  # 8 hex digits naming the run; "" once finished, if the tag had no room for it
    at: int  # epoch seconds, the run's start (runner's clock)
    up: int = 0  # seconds after `at` of the last write
    ok: int | None = None  # start of the last passing run, this one included once it passed
    step: Step | None = None
    durations: tuple[tuple[Step, float], ...] = ()
    age: int | None = None
    keys: int | None = None
    src: int | None = None
    why: str | None = None
    updated_at: str = field(default="", compare=False)  # the tag's `updatedAt` (server clock); read, never encoded

    @property
    def key(self) -> str:
        return drill_key(self.drill_id)

    @property
    def value(self) -> str:
        return encode(self)

    def duration(self, step: Step) -> float | None:
        return dict(self.durations).get(step)

    def at_step(self, step: Step, *, now: int) -> DrillReceipt:
        return replace(self, phase=DrillPhase.RUNNING, step=step, up=max(0, now - self.at))

    def timed(self, step: Step, seconds: float) -> DrillReceipt:
        return replace(self, durations=(*[(s, d) for s, d in self.durations if s is not step], (step, seconds)))

    def ended(self, phase: DrillPhase, *, now: int, why: str | None = None) -> DrillReceipt:
        ok = self.at if phase is DrillPhase.PASSED else self.ok
        return replace(self, phase=phase, up=max(0, now - self.at), ok=ok, why=_word(why))


def drill_key(drill_id: str) -> str:
    key = f"{DRILL_KEY_PREFIX}{drill_id}"
    if len(key) > MAX_KEY_LENGTH or not ALLOWED.match(key):
        raise ValueError(f"drill id {drill_id!r} cannot form a receipt tag key")
    return key


def start(drill_id: str, run: str, *, now: int, previous: DrillReceipt | None) -> DrillReceipt:
    """The write-ahead claim of a run, before its backup; it carries the last pass forward."""
    return DrillReceipt(drill_id, DrillPhase.RUNNING, run, now, 0, previous.ok if previous else None, Step.BACKUP)


def encode(receipt: DrillReceipt) -> str:
    """Within 128 characters: a receipt too long for the tag drops its counts and age (the drill report keeps
    them), then a finished run's id, never its outcome, times, step or reason."""
    shorter = [receipt, replace(receipt, src=None), replace(receipt, src=None, age=None)]
    shorter.append(replace(receipt, src=None, age=None, keys=None))
    if receipt.phase is not DrillPhase.RUNNING:
        shorter.append(replace(shorter[-1], run=""))
    for candidate in shorter:
        value = _encode(candidate)
        if len(value) <= MAX_VALUE_LENGTH:
            break
    if len(value) > MAX_VALUE_LENGTH or not ALLOWED.match(value):
        raise ValueError(f"the receipt of drill {receipt.drill_id} cannot be encoded within the tag rules")
    return value


def _encode(receipt: DrillReceipt) -> str:
    parts = [VALUE_VERSION, receipt.phase.value]
    if receipt.run:
        parts.append(f"run:{receipt.run}")
    parts += [f"at:{receipt.at}", f"up:{receipt.up}"]
    if receipt.ok is not None:
        parts.append(f"ok:{receipt.ok}")
    if receipt.step is not None:
        parts.append(f"step:{receipt.step.value}")
    if receipt.age is not None:
        parts.append(f"age:{receipt.age}")
    timed = dict(receipt.durations)
    ran = [timed.get(step) for step in Step]
    while ran and ran[-1] is None:
        ran.pop()
    if ran:
        parts.append("d:" + "_".join("" if seconds is None else _seconds(seconds) for seconds in ran))
    for name in ("keys", "src", "why"):
        value = getattr(receipt, name)
        if value is not None:
            parts.append(f"{name}:{value}")
    return " ".join(parts)


def _seconds(seconds: float) -> str:
    """A tenth of a second below 100 s, whole seconds above: a 6-hour step is 5 characters, not 7."""
    return f"{seconds:.1f}" if seconds < 99.95 else str(round(seconds))


def decode(tag: LiveTag, address: str) -> DrillReceipt:
    """A drill's receipt from its tag; an unreadable one raises (it is never overwritten: a person fixes it)."""
    drill_id = tag.key.removeprefix(DRILL_KEY_PREFIX)
    match = _VALUE.match(tag.value)
    fields = dict(word.split(":", 1) for word in match.group(2).split()) if match else {}
    try:
        ints = {name: int(fields[name]) for name in _INT_FIELDS if name in fields}
        durations = tuple(
            (step, float(text))
            for step, text in zip(Step, fields["d"].split("_") if "d" in fields else (), strict=False)
            if text
        )
        step = Step(fields["step"]) if "step" in fields else None
        phase = DrillPhase(match.group(1)) if match else None
        run = fields.get("run", "")
        if phase is None or not {"at", "up"} <= set(fields) or not re.fullmatch(r"([0-9a-f]{8})?", run):
            raise ValueError(tag.value)
        if phase is DrillPhase.RUNNING and not run:
            raise ValueError(tag.value)
    except (ValueError, KeyError):
        raise ReceiptError(
            [
                f"{address}: drill receipt tag {tag.key} has an unreadable value {tag.value[:40]!r}; it is never "
                "overwritten: fix it, or delete the tag"
            ]
        ) from None
    return DrillReceipt(
        drill_id,
        phase,
        run,
        ints["at"],
        ints["up"],
        ints.get("ok"),
        step,
        durations,
        ints.get("age"),
        ints.get("keys"),
        ints.get("src"),
        fields.get("why"),
        tag.updated_at,
    )


def _word(text: str | None) -> str | None:
    """A reason as the tag can hold it: the API's own words (`file-corrupted`) pass as they are."""
    if text is None:
        return None
    word = re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-")[:32]
    return word if _WORD.match(word) else None
