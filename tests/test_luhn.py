import pytest

from lps_core.cards.luhn import luhn_check_digit, luhn_valid, with_check_digit


@pytest.mark.parametrize("number", ["79927398713", "4539578763621486", "8800000000000013"])
def test_known_valid_numbers_pass(number):
    assert luhn_valid(number)


def test_check_digit_of_the_textbook_example():
    assert luhn_check_digit("7992739871") == "3"


def test_every_single_digit_typo_is_caught():
    number = with_check_digit("880000000012345")
    for position in range(len(number)):
        for digit in "0123456789":
            if digit != number[position]:
                typo = number[:position] + digit + number[position + 1:]
                assert not luhn_valid(typo), typo


def test_adjacent_transpositions_are_caught_except_09_90():
    number = with_check_digit("880012345678123")
    for i in range(len(number) - 1):
        a, b = number[i], number[i + 1]
        if a != b and {a, b} != {"0", "9"}:
            swapped = number[:i] + b + a + number[i + 2:]
            assert not luhn_valid(swapped), swapped


@pytest.mark.parametrize("bad", ["", "1", "12a4", " 79927398713"])
def test_malformed_numbers_are_invalid(bad):
    assert not luhn_valid(bad)
