"""The hotel's own website and LPS: sign-up into the approval queue (idempotent on the website's
reference), sign-in verification for single sign-on and the handover to the members' portal, a
member's points, tier and rewards, and incremental sync of members, bills, settlements,
redemptions and ledger entries by cursor. The API is lps_core.http.website (scope `website`);
docs/website.md is written for the website's developers."""
