"""members feature: members, their family and contacts, enrolment and approval (models, services,
input schemas). Its staff screens are in lps_core.screens.members."""
