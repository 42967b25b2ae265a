"""Templates: message content in Jinja2 files under ``templates/`` (plain text + HTML).

An email template ``NAME`` is two files: ``email/NAME.txt`` (extends ``base.txt``; a
``subject`` block and a ``body`` block) and ``email/NAME.html`` (extends ``base.html``).
Templates get ``url(path, **query)`` from ``links`` for any link to the installation.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from socstat.services.delivery import links

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["url"] = links.url
    return env


def render_email(template: str, context: dict[str, Any]) -> RenderedEmail:
    """Subject, plain text and HTML of ``email/<template>``; TemplateNotFound when unknown."""
    env = _environment()
    text_template = env.get_template(f"email/{template}.txt")
    subject_block = text_template.blocks["subject"]
    subject = "".join(subject_block(text_template.new_context(context))).strip()
    return RenderedEmail(
        subject=" ".join(subject.split()),
        text=text_template.render(context).strip() + "\n",
        html=env.get_template(f"email/{template}.html").render(context),
    )
