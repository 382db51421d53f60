"""Every read the dashboard does, as pandas DataFrames or small dataclasses.

Findings "of a call" are those of its latest scan (``findings.lexicon_hash = calls.lexicon_hash``).
A call is *flagged* when one of those findings is a violation category (:data:`FLAG_CATEGORIES`);
``pii`` and ``vulnerability`` are cues for the reviewer, not violations by themselves.
Times are stored as naive UTC; dates the user picks and days the charts show are Beijing days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import (
    Engine,
    and_,
    case,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.selectable import Join

from qa_toolkit.store.schema import (
    audit_log,
    call_reviews,
    calls,
    findings,
    reviews,
    sample_calls,
    samples,
    segments,
    training_examples,
)

__all__ = [
    "FLAG_CATEGORIES",
    "LOCAL_TZ",
    "REVIEW_STATUSES",
    "SORTS",
    "CallDetail",
    "CallFilter",
    "CallPage",
    "audit_entries",
    "call_at",
    "call_detail",
    "date_span",
    "filter_options",
    "list_calls",
    "overview",
    "position_of",
    "rule_stats",
    "sample_list",
    "sample_population",
    "sample_rows",
    "segments_for_calls",
    "training_examples_frame",
]

FLAG_CATEGORIES = ("threat", "harassment", "disclosure", "deception", "procedure")
LOCAL_TZ = "Asia/Shanghai"
LOCAL_OFFSET = timedelta(hours=8)  # Beijing time has no daylight saving
REVIEW_STATUSES = ("unreviewed", "reviewed", "confirmed", "false_alarm", "discuss")
SORTS = {"risk": calls.c.risk, "started_at": calls.c.started_at, "duration": calls.c.duration, "call_id": calls.c.call_id}


@dataclass(frozen=True)
class CallFilter:
    """What the Calls page shows. Empty tuples and ``None`` mean "no restriction".

    Attributes:
        date_from: First Beijing day (inclusive).
        date_to: Last Beijing day (inclusive).
        categories / severities: The call has a current finding with one of these categories
            and (when both are given, the same finding) one of these severities.
        rule_ids: The call has a current finding of one of these rules.
        review_status: ``unreviewed`` (no verdict yet), ``reviewed`` (at least one), or a
            verdict some finding currently holds: ``confirmed``, ``false_alarm``, ``discuss``.
        text: Substring of any segment's text (Chinese works as is: no word splitting).
        phone: Digits; a full number matches exactly, a shorter one matches the end (尾号).
        flagged: Only flagged (True) or only unflagged (False) calls.
        sort / descending: Column of :data:`SORTS` and direction; ``call_id`` breaks ties.
    """

    date_from: date | None = None
    date_to: date | None = None
    agents: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    risk_min: float | None = None
    risk_max: float | None = None
    review_status: str | None = None
    text: str = ""
    phone: str = ""
    flagged: bool | None = None
    sort: str = "risk"
    descending: bool = True


@dataclass(frozen=True)
class CallPage:
    """One page of the call list and the number of calls the filter matches."""

    rows: pd.DataFrame
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class CallDetail:
    """A call, its segments and its current findings with their latest verdicts."""

    call: dict[str, Any]
    segments: pd.DataFrame
    findings: pd.DataFrame
    call_verdict: dict[str, Any] | None = None
    history: pd.DataFrame = field(default_factory=pd.DataFrame)


def utc_bounds(date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """Beijing days ``[date_from, date_to]`` as naive-UTC ``[lo, hi)`` bounds."""
    lo = datetime.combine(date_from, time()) - LOCAL_OFFSET if date_from else None
    hi = datetime.combine(date_to + timedelta(days=1), time()) - LOCAL_OFFSET if date_to else None
    return lo, hi


def to_local(series: pd.Series) -> pd.Series:
    """Naive-UTC datetimes as Beijing time."""
    return pd.to_datetime(series).dt.tz_localize("UTC").dt.tz_convert(LOCAL_TZ)


class _FixedOrderJoin(Join):
    """An inner join that SQLite must run left table first (written as ``CROSS JOIN``).

    For ``calls JOIN findings`` SQLite otherwise scans all findings through the category
    index and looks each call up; walking the (date-filtered) calls and reading their
    findings from the covering index ``ix_findings_dash`` is 2-4x faster. For verdicts it
    starts from the (few) reviews instead of every finding. Other databases get a plain join.
    """

    inherit_cache = True


@compiles(_FixedOrderJoin, "sqlite")
def _compile_calls_first(element, compiler, **kw):
    kw = {**kw, "asfrom": True}
    left = compiler.process(element.left, **kw)
    right = compiler.process(element.right, **kw)
    return f"{left} CROSS JOIN {right} ON {compiler.process(element.onclause, **kw)}"


def _calls_findings() -> Join:
    return _FixedOrderJoin(calls, findings, _current())


def _reviews_findings_calls() -> Join:
    return _FixedOrderJoin(_FixedOrderJoin(reviews, findings, findings.c.finding_id == reviews.c.finding_id),
                           calls, _current())


def _frame(conn, stmt) -> pd.DataFrame:
    result = conn.execute(stmt)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _current(f=findings) -> ColumnElement[bool]:
    return and_(f.c.call_id == calls.c.call_id, f.c.lexicon_hash == calls.c.lexicon_hash)


def flagged_expr() -> ColumnElement[bool]:
    """True for a call with a current violation finding."""
    return exists().where(_current(), findings.c.category.in_(FLAG_CATEGORIES))


def _latest_review() -> ColumnElement[bool]:
    r2 = reviews.alias("r2")
    return reviews.c.revision == select(func.max(r2.c.revision)).where(
        r2.c.finding_id == reviews.c.finding_id).scalar_subquery()


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _conditions(flt: CallFilter) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = []
    lo, hi = utc_bounds(flt.date_from, flt.date_to)
    if lo is not None:
        cond.append(calls.c.started_at >= lo)
    if hi is not None:
        cond.append(calls.c.started_at < hi)
    if flt.agents:
        cond.append(calls.c.agent_id.in_(flt.agents))
    if flt.teams:
        cond.append(calls.c.team.in_(flt.teams))
    if flt.risk_min is not None:
        cond.append(calls.c.risk >= flt.risk_min)
    if flt.risk_max is not None:
        cond.append(calls.c.risk <= flt.risk_max)
    sub = []
    if flt.categories:
        sub.append(findings.c.category.in_(flt.categories))
    if flt.severities:
        sub.append(findings.c.severity.in_(flt.severities))
    if flt.rule_ids:
        sub.append(findings.c.rule_id.in_(flt.rule_ids))
    if sub:
        cond.append(exists().where(_current(), *sub))
    if flt.flagged is not None:
        cond.append(flagged_expr() if flt.flagged else ~flagged_expr())
    if flt.review_status:
        any_review = exists().where(reviews.c.call_id == calls.c.call_id)
        if flt.review_status == "unreviewed":
            cond.append(~any_review)
        elif flt.review_status == "reviewed":
            cond.append(any_review)
        else:
            cond.append(exists().where(reviews.c.call_id == calls.c.call_id,
                                       reviews.c.verdict == flt.review_status, _latest_review()))
    if flt.text.strip():
        cond.append(exists().where(segments.c.call_id == calls.c.call_id,
                                   segments.c.text.like(_like(flt.text.strip()), escape="\\")))
    digits = "".join(ch for ch in flt.phone if ch.isdigit())
    if digits:
        cond.append(or_(calls.c.phone == digits, calls.c.phone.like("%" + digits)))
    return cond


def _ordered(stmt: Select, flt: CallFilter) -> Select:
    col = SORTS.get(flt.sort, calls.c.risk)
    if flt.descending:
        return stmt.order_by(col.desc(), calls.c.call_id)
    return stmt.order_by(col.asc(), calls.c.call_id)


def list_calls(engine: Engine, flt: CallFilter, page: int = 0, page_size: int = 50) -> CallPage:
    """One page of calls matching ``flt``, with per-call finding and review summaries."""
    cond = _conditions(flt)
    base = select(calls.c.call_id, calls.c.started_at, calls.c.agent_id, calls.c.team, calls.c.phone,
                  calls.c.duration, calls.c.risk, calls.c.critical).where(*cond)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(calls).where(*cond)).scalar_one()
        page = max(0, min(page, max(0, (total - 1) // page_size)))
        rows = _frame(conn, _ordered(base, flt).limit(page_size).offset(page * page_size))
        ids = list(rows["call_id"])
        fsum = _frame(conn, select(findings.c.call_id, findings.c.category, findings.c.severity,
                                   func.count().label("n"))
                      .select_from(findings.join(calls, _current()))
                      .where(findings.c.call_id.in_(ids))
                      .group_by(findings.c.call_id, findings.c.category, findings.c.severity)) if ids else None
        rsum = _frame(conn, select(reviews.c.call_id, reviews.c.verdict, func.count().label("n"))
                      .where(reviews.c.call_id.in_(ids), _latest_review())
                      .group_by(reviews.c.call_id, reviews.c.verdict)) if ids else None
    rows["started_at"] = to_local(rows["started_at"])
    rows["findings"] = 0
    rows["categories"] = ""
    rows["reviewed"] = 0
    rows["status"] = ""
    if fsum is not None and len(fsum):
        n = fsum.groupby("call_id")["n"].sum()
        cats = fsum.groupby("call_id")["category"].agg(lambda s: ", ".join(sorted(set(s))))
        rows["findings"] = rows["call_id"].map(n).fillna(0).astype(int)
        rows["categories"] = rows["call_id"].map(cats).fillna("")
    if rsum is not None and len(rsum):
        done = rsum.groupby("call_id")["n"].sum()
        rows["reviewed"] = rows["call_id"].map(done).fillna(0).astype(int)
        verdicts = rsum.groupby("call_id")["verdict"].agg(lambda s: ", ".join(sorted(set(s))))
        rows["status"] = rows["call_id"].map(verdicts).fillna("")
    rows.loc[(rows["findings"] > 0) & (rows["reviewed"] == 0), "status"] = "unreviewed"
    return CallPage(rows=rows, total=int(total), page=page, page_size=page_size)


def call_at(engine: Engine, flt: CallFilter, position: int) -> str | None:
    """The id of the call at ``position`` (0-based) in the filtered, sorted list."""
    if position < 0:
        return None
    with engine.connect() as conn:
        stmt = _ordered(select(calls.c.call_id).where(*_conditions(flt)), flt).limit(1).offset(position)
        return conn.execute(stmt).scalar()


def position_of(engine: Engine, flt: CallFilter, call_id: str) -> int | None:
    """Where ``call_id`` sits in the filtered, sorted list (``None`` when the filter excludes it)."""
    with engine.connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_id == call_id, *_conditions(flt))).mappings().first()
        if row is None:
            return None
        col = SORTS.get(flt.sort, calls.c.risk)
        value = row[col.key]
        if value is None:
            before = or_(col.is_not(None), and_(col.is_(None), calls.c.call_id < call_id))
            if not flt.descending:  # NULLs sort first ascending in SQLite and last in PostgreSQL
                before = and_(col.is_(None), calls.c.call_id < call_id)
        else:
            ahead = col > value if flt.descending else col < value
            before = or_(ahead, and_(col == value, calls.c.call_id < call_id))
        return conn.execute(select(func.count()).select_from(calls).where(before, *_conditions(flt))).scalar_one()


def call_detail(engine: Engine, call_id: str) -> CallDetail | None:
    """A call with its segments, current findings (latest verdict beside each) and history."""
    with engine.connect() as conn:
        row = conn.execute(select(calls).where(calls.c.call_id == call_id)).mappings().first()
        if row is None:
            return None
        segs = _frame(conn, select(segments).where(segments.c.call_id == call_id).order_by(segments.c.idx))
        fnd = _frame(conn, select(findings).where(findings.c.call_id == call_id,
                                                   findings.c.lexicon_hash == row["lexicon_hash"])
                     .order_by(findings.c.segment, findings.c.start_char))
        revs = _frame(conn, select(reviews).where(reviews.c.call_id == call_id).order_by(reviews.c.created_at))
        cv = conn.execute(select(call_reviews).where(call_reviews.c.call_id == call_id)
                          .order_by(call_reviews.c.revision.desc()).limit(1)).mappings().first()
    latest = revs.sort_values("revision").groupby("finding_id").tail(1).set_index("finding_id") if len(revs) else None
    for col, default in (("verdict", ""), ("reviewer", ""), ("note", ""), ("revision", 0)):
        fnd[col] = fnd["finding_id"].map(latest[col]).fillna(default) if latest is not None else default
    fnd["revision"] = fnd["revision"].astype(int)
    call = dict(row)
    call["started_local"] = to_local(pd.Series([row["started_at"]])).iloc[0] if row["started_at"] else None
    return CallDetail(call=call, segments=segs, findings=fnd, call_verdict=dict(cv) if cv else None, history=revs)


def date_span(engine: Engine) -> tuple[date | None, date | None]:
    """The first and last Beijing day holding a call."""
    with engine.connect() as conn:
        lo, hi = conn.execute(select(func.min(calls.c.started_at), func.max(calls.c.started_at))).one()
    return ((lo + LOCAL_OFFSET).date() if lo else None, (hi + LOCAL_OFFSET).date() if hi else None)


def segments_for_calls(engine: Engine, call_ids: list[str]) -> dict[str, pd.DataFrame]:
    """Segments (idx, start, end, speaker, text) of some calls, by call id."""
    if not call_ids:
        return {}
    with engine.connect() as conn:
        df = _frame(conn, select(segments.c.call_id, segments.c.idx, segments.c.start, segments.c.end,
                                 segments.c.speaker, segments.c.text)
                    .where(segments.c.call_id.in_(call_ids)).order_by(segments.c.call_id, segments.c.idx))
    return {cid: part.reset_index(drop=True) for cid, part in df.groupby("call_id")}


def filter_options(engine: Engine) -> dict[str, list[str]]:
    """Distinct agents, teams and rule ids for the filter widgets."""
    with engine.connect() as conn:
        def values(col) -> list[str]:
            return [v for v in conn.execute(select(col).distinct().where(col.is_not(None)).order_by(col)).scalars()]

        return {"agents": values(calls.c.agent_id), "teams": values(calls.c.team), "rules": values(findings.c.rule_id)}


def local_day(engine: Engine, col) -> ColumnElement:
    """The Beijing day of a naive-UTC column, in SQL."""
    if engine.dialect.name == "sqlite":
        return func.date(col, "+8 hours")
    return func.date(col + text("interval '8 hours'"))


def overview(engine: Engine, date_from: date | None = None, date_to: date | None = None) -> dict[str, Any]:
    """The figures of the Overview page for a Beijing date range.

    Returns a dict with ``kpi`` (dict) and DataFrames ``by_day``, ``by_team``, ``by_agent``,
    ``by_category`` (findings per category and severity), ``by_rule`` and ``verdicts`` (latest
    verdicts per category).
    """
    lo, hi = utc_bounds(date_from, date_to)
    cond = []
    if lo is not None:
        cond.append(calls.c.started_at >= lo)
    if hi is not None:
        cond.append(calls.c.started_at < hi)
    flag = case((flagged_expr(), 1), else_=0)
    day = local_day(engine, calls.c.started_at).label("day")
    with engine.connect() as conn:
        by_day = _frame(conn, select(day, func.count().label("calls"), func.sum(flag).label("flagged"))
                        .where(*cond).group_by(day).order_by(day))
        by_agent = _frame(conn, select(calls.c.team, calls.c.agent_id, func.count().label("calls"),
                                       func.sum(flag).label("flagged"), func.avg(calls.c.risk).label("avg_risk"))
                          .where(*cond).group_by(calls.c.team, calls.c.agent_id))
        by_cat = _frame(conn, select(findings.c.category, findings.c.severity, findings.c.rule_id,
                                     func.count().label("findings"))
                        .select_from(_calls_findings()).where(*cond)
                        .group_by(findings.c.category, findings.c.severity, findings.c.rule_id))
        verdicts = _frame(conn, select(findings.c.category, findings.c.rule_id, reviews.c.verdict,
                                       func.count().label("n"))
                          .select_from(_reviews_findings_calls())
                          .where(_latest_review(), *cond)
                          .group_by(findings.c.category, findings.c.rule_id, reviews.c.verdict))
    for df in (by_day, by_agent):
        df["flagged"] = df["flagged"].fillna(0).astype(int)
    by_team = by_agent.groupby("team", dropna=False, as_index=False)[["calls", "flagged"]].sum()
    for df in (by_team, by_agent):
        df["flagged_rate"] = df["flagged"] / df["calls"].where(df["calls"] > 0)
    confirmed = int(verdicts.loc[verdicts["verdict"] == "confirmed", "n"].sum())
    false_alarm = int(verdicts.loc[verdicts["verdict"] == "false_alarm", "n"].sum())
    kpi = {
        "calls": int(by_day["calls"].sum()),
        "flagged": int(by_day["flagged"].sum()),
        "findings": int(by_cat["findings"].sum()),
        "reviewed": int(verdicts["n"].sum()),
        "confirmed": confirmed,
        "false_alarm": false_alarm,
        "false_alarm_rate": false_alarm / (confirmed + false_alarm) if confirmed + false_alarm else None,
    }
    by_rule = by_cat.groupby(["rule_id", "category"], as_index=False)["findings"].sum()
    by_category = by_cat.groupby(["category", "severity"], as_index=False)["findings"].sum()
    return {"kpi": kpi, "by_day": by_day, "by_team": by_team, "by_agent": by_agent,
            "by_category": by_category, "by_rule": by_rule, "verdicts": verdicts}


def rule_stats(engine: Engine, date_from: date | None = None, date_to: date | None = None) -> pd.DataFrame:
    """Per rule: hits, calls, latest verdicts and the measured precision."""
    lo, hi = utc_bounds(date_from, date_to)
    cond = [c for c in ((calls.c.started_at >= lo) if lo else None, (calls.c.started_at < hi) if hi else None)
            if c is not None]
    with engine.connect() as conn:
        hits = _frame(conn, select(findings.c.rule_id, findings.c.category, func.count().label("hits"),
                                   func.count(distinct(findings.c.call_id)).label("calls"))
                      .select_from(_calls_findings()).where(*cond)
                      .group_by(findings.c.rule_id, findings.c.category))
        verdicts = _frame(conn, select(findings.c.rule_id, reviews.c.verdict, func.count().label("n"))
                          .select_from(_reviews_findings_calls())
                          .where(_latest_review(), *cond).group_by(findings.c.rule_id, reviews.c.verdict))
        regs = pd.DataFrame(
            [(r, *conn.execute(select(findings.c.regulation, findings.c.severity)
                               .where(findings.c.rule_id == r).limit(1)).one()) for r in hits["rule_id"]],
            columns=["rule_id", "regulation", "severity"])  # one lookup per rule through ix_findings_rule
    pivot = verdicts.pivot_table(index="rule_id", columns="verdict", values="n", aggfunc="sum", fill_value=0)
    for v in ("confirmed", "false_alarm", "discuss"):
        hits[v] = hits["rule_id"].map(pivot[v]).fillna(0).astype(int) if v in pivot else 0
    hits = hits.merge(regs, on="rule_id", how="left")
    hits["reviewed"] = hits["confirmed"] + hits["false_alarm"] + hits["discuss"]
    from qa_toolkit.sampling import wilson

    judged = hits["confirmed"] + hits["false_alarm"]
    hits["precision"] = (hits["confirmed"] / judged.where(judged > 0)).astype(float)
    bounds = [wilson(int(c), int(n)) for c, n in zip(hits["confirmed"], judged, strict=True)]
    hits["precision_low"] = [b[0] for b in bounds]
    hits["precision_high"] = [b[1] for b in bounds]
    return hits.sort_values(["hits", "rule_id"], ascending=[False, True]).reset_index(drop=True)


def audit_entries(engine: Engine, *, user: str | None = None, action: str | None = None,
                  target: str | None = None, limit: int = 500) -> pd.DataFrame:
    """The newest audit-log lines, optionally for one user, action or target prefix."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if user:
        stmt = stmt.where(audit_log.c.user == user)
    if action:
        stmt = stmt.where(audit_log.c.action == action)
    if target:
        stmt = stmt.where(audit_log.c.target.like(target + "%"))
    with engine.connect() as conn:
        df = _frame(conn, stmt)
    df["at"] = to_local(df["at"])
    return df


def sample_population(engine: Engine, date_from: date | None, date_to: date | None) -> pd.DataFrame:
    """The calls an audit sample is drawn from: id, agent, team, risk, flagged."""
    lo, hi = utc_bounds(date_from, date_to)
    stmt = select(calls.c.call_id, calls.c.agent_id, calls.c.team, calls.c.risk,
                  case((flagged_expr(), True), else_=False).label("flagged"))
    if lo is not None:
        stmt = stmt.where(calls.c.started_at >= lo)
    if hi is not None:
        stmt = stmt.where(calls.c.started_at < hi)
    with engine.connect() as conn:
        df = _frame(conn, stmt)
    df["flagged"] = df["flagged"].astype(bool)
    df["risk"] = df["risk"].fillna(0.0).astype(float)
    return df


def sample_list(engine: Engine) -> pd.DataFrame:
    """Saved samples, newest first, with their size."""
    n = select(sample_calls.c.sample_id, func.count().label("calls")).group_by(sample_calls.c.sample_id).subquery()
    with engine.connect() as conn:
        df = _frame(conn, select(samples, func.coalesce(n.c.calls, literal(0)).label("calls"))
                    .select_from(samples.outerjoin(n, n.c.sample_id == samples.c.sample_id))
                    .order_by(samples.c.created_at.desc()))
    return df


def sample_rows(engine: Engine, sample_id: str) -> tuple[dict[str, Any] | None, pd.DataFrame, pd.DataFrame]:
    """A saved sample: its record, one row per call (with verdicts and regulations), one per finding."""
    with engine.connect() as conn:
        meta = conn.execute(select(samples).where(samples.c.sample_id == sample_id)).mappings().first()
        if meta is None:
            return None, pd.DataFrame(), pd.DataFrame()
        members = _frame(conn, select(sample_calls.c.call_id, sample_calls.c.stratum, sample_calls.c.flagged,
                                      calls.c.started_at, calls.c.agent_id, calls.c.team, calls.c.phone,
                                      calls.c.risk)
                         .select_from(sample_calls.join(calls, calls.c.call_id == sample_calls.c.call_id))
                         .where(sample_calls.c.sample_id == sample_id).order_by(sample_calls.c.stratum,
                                                                                sample_calls.c.call_id))
        ids = list(members["call_id"])
        fnd = _frame(conn, select(findings.c.finding_id, findings.c.call_id, findings.c.category,
                                  findings.c.rule_id, findings.c.severity, findings.c.text,
                                  findings.c.regulation)
                     .select_from(findings.join(calls, _current())).where(findings.c.call_id.in_(ids)))
        revs = _frame(conn, select(reviews.c.finding_id, reviews.c.verdict, reviews.c.reviewer, reviews.c.note)
                      .where(reviews.c.call_id.in_(ids), _latest_review()))
        cr2 = call_reviews.alias("cr2")
        cvs = _frame(conn, select(call_reviews.c.call_id, call_reviews.c.verdict.label("call_verdict"),
                                  call_reviews.c.categories.label("call_categories"),
                                  call_reviews.c.reviewer.label("call_reviewer"),
                                  call_reviews.c.note.label("call_note"),
                                  call_reviews.c.revision.label("call_revision"))
                     .where(call_reviews.c.call_id.in_(ids),
                            call_reviews.c.revision == select(func.max(cr2.c.revision))
                            .where(cr2.c.call_id == call_reviews.c.call_id).scalar_subquery()))
    fnd = fnd.merge(revs, on="finding_id", how="left")
    for col in ("verdict", "reviewer", "note"):
        fnd[col] = fnd[col].fillna("")
    members["started_at"] = to_local(members["started_at"])
    members["flagged"] = members["flagged"].astype(bool)
    agg = fnd.groupby("call_id").agg(
        findings=("finding_id", "count"),
        rules=("rule_id", lambda s: ", ".join(sorted(set(s)))),
        categories=("category", lambda s: ", ".join(sorted(set(s)))),
        regulations=("regulation", lambda s: "; ".join(sorted(set(filter(None, s))))),
        confirmed=("verdict", lambda s: int((s == "confirmed").sum())),
        false_alarm=("verdict", lambda s: int((s == "false_alarm").sum())),
        unreviewed=("verdict", lambda s: int((s == "").sum())),
    ) if len(fnd) else pd.DataFrame()
    out = members.merge(agg, left_on="call_id", right_index=True, how="left") if len(agg) else members
    for col in ("findings", "confirmed", "false_alarm", "unreviewed"):
        out[col] = out[col].fillna(0).astype(int) if col in out else 0
    for col in ("rules", "categories", "regulations"):
        out[col] = out[col].fillna("") if col in out else ""
    out = out.merge(cvs, on="call_id", how="left") if len(cvs) else out.assign(
        call_verdict=None, call_categories=None, call_reviewer=None, call_note=None, call_revision=0)
    out["call_revision"] = out["call_revision"].fillna(0).astype(int)
    out["call_verdict"] = out["call_verdict"].astype(object).where(out["call_verdict"].notna(), "")
    for col in ("call_reviewer", "call_note"):
        out[col] = out[col].fillna("")
    out["call_categories"] = out["call_categories"].map(lambda v: ", ".join(v) if isinstance(v, list) else "")
    return dict(meta), out, fnd


def training_examples_frame(engine: Engine) -> pd.DataFrame:
    """The training library, one row per example (the finding's snapshot expanded)."""
    with engine.connect() as conn:
        df = _frame(conn, select(training_examples).order_by(training_examples.c.category, training_examples.c.id))
    snaps = df["snapshot"].map(lambda s: s or {})
    for key in ("rule_id", "severity", "text", "regulation", "description", "explanation", "segment_text",
                "start_char", "end_char", "start", "end", "audio", "speaker", "segment"):
        df[key] = snaps.map(lambda s, k=key: s.get(k))
    df["added_at"] = to_local(df["added_at"])
    return df
