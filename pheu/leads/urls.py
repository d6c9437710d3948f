from django.urls import path

from pheu.leads.views import duplicates, pipeline, stages
from pheu.leads.views import records as views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("quick/", views.lead_quick_create, name="quick_create"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/notes/", views.lead_note, name="note"),
    path("rules/preview/", views.domain_preview, name="domain_preview"),
    path("saved-filters/", views.saved_filter_create, name="saved_filter_create"),
    path("saved-filters/<int:pk>/delete/", views.saved_filter_delete, name="saved_filter_delete"),
    # the pipeline (pheu.leads.views.pipeline) and its configuration (pheu.leads.views.stages)
    path("pipeline/", pipeline.pipeline, name="pipeline"),
    path("pipeline/list/", pipeline.pipeline_list, name="pipeline_list"),
    path("pipeline/calendar/", pipeline.pipeline_calendar, name="pipeline_calendar"),
    path("pipeline/<int:pk>/move/", pipeline.pipeline_move, name="pipeline_move"),
    path("pipeline/new/<int:stage_pk>/", pipeline.pipeline_quick_create, name="pipeline_quick_create"),
    path("<int:pk>/won/", pipeline.lead_won, name="won"),
    path("<int:pk>/lost/", pipeline.lead_lost, name="lost"),
    path("<int:pk>/restore/", pipeline.lead_restore, name="restore"),
    path("stages/", stages.stage_list, name="stage_list"),
    path("stages/new/", stages.stage_create, name="stage_create"),
    path("stages/<int:pk>/edit/", stages.stage_edit, name="stage_edit"),
    path("stages/reorder/", stages.stage_reorder, name="stage_reorder"),
    path("lost-reasons/", stages.lost_reason_list, name="lost_reason_list"),
    path("lost-reasons/new/", stages.lost_reason_create, name="lost_reason_create"),
    path("lost-reasons/<int:pk>/edit/", stages.lost_reason_edit, name="lost_reason_edit"),
    # duplicates, merge and conversion (pheu.leads.views.duplicates)
    path("duplicates/", duplicates.duplicate_groups, name="duplicates"),
    path("merge/", duplicates.merge_records, name="merge"),
    path("merges/<int:pk>/undo/", duplicates.undo_merge, name="unmerge"),
    path("<int:pk>/convert/", duplicates.convert, name="convert"),
    path("convert/", duplicates.convert_selection, name="convert_selection"),
]
