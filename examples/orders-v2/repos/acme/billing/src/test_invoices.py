import unittest

from invoices import total


class TotalTest(unittest.TestCase):
    def test_empty(self):
        self.assertEquals(total([], {}), 0)

    def test_one(self):
        self.assertEqual(total([{"amt": 3}], {}), 3)
