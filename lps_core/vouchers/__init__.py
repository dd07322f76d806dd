"""Vouchers: issued with a face value and a validity, taken once by a settlement's voucher tender."""
