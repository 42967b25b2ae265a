"""Paging of an admin list: the offset, the total, the "1–25 из 70" label and the
previous/next handlers (mix into a state that defines ``_reload``)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from socstat.ui.viewmodels import page_label


class PagedListMixin(rx.State, mixin=True):
    total: int = 0
    offset: int = 0
    page_size: int = 25
    empty_label: str = "Ничего нет"

    @rx.var
    def page_label(self) -> str:
        return page_label(self.offset, self.total, self.page_size, self.empty_label)

    @rx.var
    def has_prev(self) -> bool:
        return self.offset > 0

    @rx.var
    def has_next(self) -> bool:
        return self.offset + self.page_size < self.total

    async def _reload(self) -> Any:
        raise NotImplementedError

    @rx.event
    async def next_page(self) -> Any:
        if self.offset + self.page_size < self.total:
            self.offset += self.page_size
        return await self._reload()

    @rx.event
    async def prev_page(self) -> Any:
        self.offset = max(0, self.offset - self.page_size)
        return await self._reload()
