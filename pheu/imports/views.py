"""Pages of imports (upload → mapping and preview → progress → result) and the exports of lead lists."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from pheu.core.forms import add_service_errors
from pheu.imports import exports
from pheu.imports.exceptions import ImportsError
from pheu.imports.forms import MappingForm, UploadForm
from pheu.imports.models import Import
from pheu.imports.services import (
    PHASES,
    preview_import,
    progress_counters,
    progress_text,
    revert_import,
    revertible,
    runnable,
    start_import,
    unmapped_columns,
    upload_import,
)
from pheu.leads.filters import LeadFilterSet
from pheu.leads.models import Lead
from pheu.lib.spreadsheet import safe_text

ISSUES_SHOWN = 100


def _importer(request: HttpRequest) -> None:
    if not request.user.sees_all_records:  # type: ignore[union-attr]
        raise PermissionDenied(_("Only sales managers and administrators import files."))


def _run(request: HttpRequest, pk: int) -> Import:
    _importer(request)
    return get_object_or_404(Import.objects.select_related("created_by", "team"), pk=pk)


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    _importer(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            run = upload_import(
                actor=request.user,
                upload=upload,
                file_name=upload.name,
                kind=form.cleaned_data["kind"],
                team=form.cleaned_data["team"],
            )
        except ImportsError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("imports:detail", pk=run.pk)
    runs = Import.objects.select_related("created_by")[:50]
    return render(request, "imports/list.html", {"form": form, "runs": runs})


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    context: dict = {"run": run, "revertible": revertible(run)}
    if runnable(run):
        context["form"] = MappingForm(headers=run.headers, mapping=run.mapping)
        context["preview"] = preview_import(import_run=run)
    context.update(_result(run))
    return render(request, "imports/detail.html", context)


def _result(run: Import) -> dict:
    return {
        **_progress(run),
        "issues": run.issues.all()[:ISSUES_SHOWN],
        "issue_total": run.issues.count() if run.finished else 0,
        "not_imported": unmapped_columns(run),
        "duplicates": run.lines.filter(duplicate_of_id__isnull=False).order_by("row")[:ISSUES_SHOWN],
        "issues_shown": ISSUES_SHOWN,
    }


@login_required
@require_POST
def import_start(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    form = MappingForm(request.POST, headers=run.headers, mapping=run.mapping)
    if form.is_valid():
        try:
            start_import(
                actor=request.user,
                import_run=run,
                mapping=form.mapping(),
                dry_run=form.cleaned_data["dry_run"],
                atomic=form.cleaned_data["atomic"],
            )
        except ImportsError as exc:
            for problems in exc.field_errors.values():
                for problem in problems:
                    messages.error(request, problem)
            if not exc.field_errors:
                messages.error(request, exc.message)
    return redirect("imports:detail", pk=run.pk)


def _progress(run: Import) -> dict:
    """The counters of a running import as the progress card shows them (the command line's figures)."""
    if run.finished:
        return {"progress": run.processed_rows}
    counters = progress_counters(run)
    total = max(counters.total, counters.rows)
    return {
        "progress": counters.rows,
        "phase": PHASES.get(counters.phase, counters.phase),
        "progress_text": progress_text(counters),
        "percent": round(100 * counters.rows / total) if total and counters.phase == "read" else 100,
    }


@login_required
def import_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress card (htmx polls it while the import runs; it stops polling once finished)."""
    run = _run(request, pk)
    response = render(request, "imports/_progress.html", {"run": run, **_result(run)})
    if run.finished:
        response["HX-Refresh"] = "true"  # the whole page: result, errors, revert button
    return response


@login_required
def import_issues_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    run = _run(request, pk)
    import csv

    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())

    def chunks():
        yield "\ufeff" + writer.writerow([_("Row"), _("Column"), _("Value"), _("Reason"), _("Level")])
        for issue in run.issues.all().iterator(chunk_size=2000):
            # The column's name and the value come from the file: neither may be a formula.
            yield writer.writerow(
                [
                    issue.row,
                    safe_text(issue.column),
                    safe_text(issue.value),
                    issue.reason,
                    issue.get_level_display(),
                ]
            )

    response = StreamingHttpResponse(chunks(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{run.pk}-errors.csv"'
    return response


@login_required
@require_POST
def import_revert(request: HttpRequest, pk: int) -> HttpResponse:
    run = _run(request, pk)
    try:
        revert_import(actor=request.user, import_run=run)
    except ImportsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The import was reverted."))
    return redirect("imports:detail", pk=run.pk)


# --- exports ---------------------------------------------------------------------------------------
def _export_queryset(request: HttpRequest):
    filterset = LeadFilterSet(request.GET, queryset=Lead.objects.visible_to(request.user), request=request)
    rows = filterset.qs
    return (
        rows.order_by(*rows.query.order_by, "-id")
        if rows.query.order_by
        else rows.order_by("-created_at", "-id")
    )


def _file_name(extension: str) -> str:
    return f"leads-{timezone.localdate().isoformat()}.{extension}"


@login_required
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        exports.csv_chunks(_export_queryset(request)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_file_name("csv")}"'
    return response


@login_required
def export_xlsx(request: HttpRequest) -> FileResponse:
    import tempfile

    buffer = tempfile.TemporaryFile()  # noqa: SIM115 — FileResponse closes it
    exports.write_xlsx(_export_queryset(request), buffer)
    buffer.seek(0)
    return FileResponse(
        buffer,
        as_attachment=True,
        filename=_file_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
