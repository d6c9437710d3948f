"""Pages of activities."""

from django.urls import path

from pheu.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.my_activities, name="mine"),
    path("calendar/", views.meeting_calendar, name="calendar"),
    path("calendar.ics", views.calendar_export, name="calendar_ics"),
    path("calendar/feed/<str:token>.ics", views.calendar_feed, name="feed"),
    path("calendar/feed/renew/", views.calendar_feed_renew, name="feed_renew"),
    path("<str:kind>/<int:pk>/schedule/", views.schedule, name="schedule"),
    path("<str:kind>/<int:pk>/email/", views.send_email, name="email"),
    path("<int:pk>/done/", views.mark_done, name="done"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
]
