from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScoringConfig(AppConfig):
    name = "pheu.scoring"
    verbose_name = _("Lead scoring")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from pheu.core.navigation import register_nav
        from pheu.core.panels import register_panel
        from pheu.core.services import register_settings_listener
        from pheu.scoring import panels
        from pheu.scoring.models import ScoringRule
        from pheu.scoring.prediction import prediction_settings_changed
        from pheu.scoring.services import rules_changed
        from pheu.scoring.tracking import tracking_rate

        # Whatever writes a rule (services, admin, scripts), processes read the active rules again.
        post_save.connect(rules_changed, sender=ScoringRule, dispatch_uid="scoring_rules_changed_save")
        post_delete.connect(rules_changed, sender=ScoringRule, dispatch_uid="scoring_rules_changed_delete")

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
