"""Limit/offset pagination: one query for the page, one for the total."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import psycopg
from fastapi import Depends, Query
from psycopg.rows import dict_row

from api.scope import Where

MAX_PAGE = 500


@dataclass(frozen=True)
class PageParams:
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="rows per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="rows to skip")] = 0,
) -> PageParams:
    return PageParams(limit, offset)


Paging = Annotated[PageParams, Depends(page_params)]


def fetch_page(
    conn: psycopg.Connection,
    *,
    columns: str,
    from_sql: str,
    where: Where,
    order_by: str,
    page: PageParams,
) -> dict:
    """``{"items", "total", "limit", "offset"}``."""
    cur = conn.cursor(row_factory=dict_row)
    items = cur.execute(
        f"SELECT {columns} FROM {from_sql} WHERE {where.sql} ORDER BY {order_by} "
        "LIMIT %(page_limit)s OFFSET %(page_offset)s",
        where.params | {"page_limit": page.limit, "page_offset": page.offset},
    ).fetchall()
    if page.offset == 0 and len(items) < page.limit:
        total = len(items)
    else:
        total = cur.execute(
            f"SELECT count(*) AS n FROM {from_sql} WHERE {where.sql}",
            where.params,
        ).fetchone()["n"]
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}
