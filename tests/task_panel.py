"""Driving the operators' map task panel (maps/static/js/taskdetail.js) in a browser
session, as a person would: open a task, wait for its state, dispatch, report back."""

from __future__ import annotations

from tests.browser_helpers import WAIT_MS, BrowserSession, png_bytes

HANDLED_FORM = "#task-detail [data-form=handled]"


def open_task(session: BrowserSession, task_id: int) -> None:
    session.page.click(f"#task-list [data-id='{task_id}']")
    session.page.wait_for_selector(f"#task-detail .facts >> text=#{task_id}")


def state_of(session: BrowserSession) -> str:
    return session.page.get_attribute("#task-detail .chip.state", "data-state")


def wait_state(session: BrowserSession, state: str, timeout: int = WAIT_MS) -> None:
    session.page.wait_for_function(
        "s => document.querySelector('#task-detail .chip.state')?.dataset.state === s",
        arg=state,
        timeout=timeout,
    )


def buttons(session: BrowserSession) -> set[str]:
    return set(
        session.page.eval_on_selector_all(
            "#task-detail .actions button", "bs => bs.map(b => b.dataset.action)"
        )
    )


def dispatch(operator: BrowserSession, worker_id: str) -> None:
    """Dispatch the open task to ``worker_id`` through the panel's form."""
    operator.page.click("#task-detail [data-action=dispatch]")
    worker_select = "#task-detail [data-form=dispatch] [data-field=worker]"
    operator.page.wait_for_selector(f"{worker_select} option[value={worker_id}]", state="attached")
    operator.page.select_option(worker_select, worker_id)
    operator.page.click("#task-detail [data-submit=dispatch]")
    wait_state(operator, "dispatched")


def report_handled(worker: BrowserSession, note: str) -> None:
    """The worker's 处置反馈 on the open task (in progress): the note and one photo."""
    worker.page.click("#task-detail [data-action=handled]")
    worker.page.fill(f"{HANDLED_FORM} [data-field=note]", note)
    worker.page.set_input_files(
        f"{HANDLED_FORM} [data-field=photo]",
        files=[{"name": "scene.png", "mimeType": "image/png", "buffer": png_bytes()}],
    )
    worker.page.click(f"{HANDLED_FORM} [data-submit=handled]")
    wait_state(worker, "handled")
