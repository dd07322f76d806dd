"""Lists on the staff screens: every list is searchable (by its view), sortable and paginated,
with the state in the query string so a list can be bookmarked, reloaded and shared."""
from dataclasses import dataclass, field
from urllib.parse import urlencode

from sqlalchemy import func, select

PER_PAGE = 25
MAX_PER_PAGE = 200


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    sort: str
    descending: bool
    params: dict = field(default_factory=dict)  # the list's other query parameters (its search)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def query(self, **changes) -> str:
        """The query string of this list with some parameters changed, e.g. page=2."""
        state = {**self.params, "sort": self.sort, "desc": "1" if self.descending else "", "page": self.page}
        state.update(changes)
        return "?" + urlencode({k: v for k, v in state.items() if v not in (None, "")})

    def sort_query(self, key) -> str:
        """Sort by `key`; the same key again reverses the order."""
        return self.query(sort=key, desc="" if key != self.sort or self.descending else "1", page=1)


def paginate(db, request, query, sorts: dict, default_sort: str, *, descending=False, params=None) -> Page:
    """Run `query` (a select) for the page the request asks for, sorted by one of `sorts`
    (name -> column, the only sorts allowed: nothing from the query string reaches SQL unchecked)."""
    sort = request.params.get("sort")
    if sort not in sorts:
        sort, desc = default_sort, descending
    else:
        desc = request.params.get("desc") == "1"
    page = _int(request.params.get("page"), 1, 1, 100_000)
    per_page = _int(request.params.get("per_page"), PER_PAGE, 1, MAX_PER_PAGE)
    total = db.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    column = sorts[sort]
    rows = db.execute(query.order_by(column.desc() if desc else column.asc())
                      .limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, total, page, per_page, sort, desc, {k: v for k, v in (params or {}).items() if v})


def _int(value, default, minimum, maximum):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return min(max(number, minimum), maximum)
