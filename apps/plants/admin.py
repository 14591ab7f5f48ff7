from django.contrib import admin

from apps.accounts.panel_versions import PanelVersionAdminMixin

from .models import (
    IdentificationSuggestion,
    PlantIdentificationRequest,
    PlantPhoto,
    PlantSpecies,
    SavedCareInstructions,
)


@admin.register(PlantSpecies)
class PlantSpeciesAdmin(PanelVersionAdminMixin, admin.ModelAdmin):
    list_display = ("primary_common_name", "scientific_name", "family", "category", "difficulty")
    list_filter = ("category", "difficulty", "light", "toxic_to_cats", "toxic_to_dogs")
    search_fields = ("scientific_name", "primary_common_name", "family")
    prepopulated_fields = {"slug": ("scientific_name",)}

    def panel_user_ids(self, obj):
        # Care cards and identified requests show the species' names.
        cards = SavedCareInstructions.objects.filter(species=obj).values_list("owner_id", flat=True)
        requests = PlantIdentificationRequest.objects.filter(species=obj).values_list("owner_id", flat=True)
        return sorted(set(cards) | set(requests))


class PlantPhotoInline(admin.TabularInline):
    model = PlantPhoto
    extra = 0


class SuggestionInline(admin.TabularInline):
    model = IdentificationSuggestion
    fk_name = "request"
    extra = 0
    raw_id_fields = ("species", "suggested_by")


@admin.register(PlantIdentificationRequest)
class IdentificationRequestAdmin(PanelVersionAdminMixin, admin.ModelAdmin):
    list_display = ("id", "owner", "status", "species", "created_at")
    list_filter = ("status",)
    list_select_related = ("owner", "species")
    raw_id_fields = ("owner", "species", "accepted_suggestion")
    inlines = [PlantPhotoInline, SuggestionInline]

    panel_owner_field = "owner_id"

    def panel_user_ids(self, obj):
        return [obj.owner_id]


@admin.register(SavedCareInstructions)
class CareCardAdmin(PanelVersionAdminMixin, admin.ModelAdmin):
    list_display = ("id", "owner", "species", "nickname", "status", "is_favourite")
    list_filter = ("status", "is_favourite")
    list_select_related = ("owner", "species")
    raw_id_fields = ("owner", "species")

    panel_owner_field = "owner_id"

    def panel_user_ids(self, obj):
        return [obj.owner_id]
