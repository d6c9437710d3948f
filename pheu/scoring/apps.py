from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "pheu.scoring"
    verbose_name = _("Lead scoring")

    def ready(self) -> None:
        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.core.services import register_settings_listener
        from pheu.leads.services.steps import Phase, register_change_step, register_creation_step
        from pheu.scoring import lead_steps, panels
        from pheu.scoring.services.prediction import prediction_settings_changed
        from pheu.scoring.tracking import tracking_rate

        # A new lead is scored (its facts) and predicted (with its team); changed leads are re-scored.
        register_creation_step(phase=Phase.FACTS, step=lead_steps.score_new_lead)
        register_creation_step(phase=Phase.DERIVED, step=lead_steps.predict_new_lead)
        register_change_step(lead_steps.rescore_changed_leads)
        register_settings_listener("scoring", prediction_settings_changed)
        tracking_rate()  # a bad PHEU_TRACKING_RATE stops the program here, naming the variable
        register_nav(
            name="scoring",
            label=_("Scoring"),
            url_name="scoring:rules",
            app_names=("scoring",),
            order=50,
        )
        register_panel(
            page="lead",
            name="scoring",
            slot="side",
            template="scoring/_lead_panel.html",
            context=panels.score_panel,
            order=10,
        )
        register_panel(
            page="lead",
            name="pageviews",
            slot="side",
            template="scoring/_pageviews_panel.html",
            context=panels.pageviews_panel,
            order=15,
        )
