"""CDS Hooks 2.0: discovery document, prefetch completion and card building.

Framework-free: the Flask blueprint passes in a ``score`` callable (the core), a drug-class
resolver and configuration. HL7 CDS Hooks 2.0.1 (shared/domain/ehr-facts.md section 1):
:mod:`.discovery` the services and how a call is read, :mod:`.fetch` prefetch completion (412 when
the patient itself cannot be obtained), :mod:`.cards` the patient-view card,
:mod:`.order_select` the order-select card, :mod:`.checks` response checks.
"""
from .cards import has_minimum_data, patient_view_cards, summary_for
from .checks import response_problems
from .discovery import ORDER_SELECT_ID, PATIENT_VIEW_ID, SERVICES, CdsError, as_of_from, discovery
from .fetch import Collected, FetchSettings, FhirClient, collect
from .order_select import draft_concept, draft_medications, draft_order_medications, order_select_cards

__all__ = ["CdsError", "Collected", "FetchSettings", "FhirClient", "ORDER_SELECT_ID", "PATIENT_VIEW_ID",
           "SERVICES", "as_of_from", "collect", "discovery", "draft_concept", "draft_medications",
           "draft_order_medications", "has_minimum_data", "order_select_cards", "patient_view_cards",
           "response_problems", "summary_for"]
