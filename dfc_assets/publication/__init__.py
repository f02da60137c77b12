"""The publication steps, one plain function per asset of the chain (DESIGN §2).

Each step reads what it needs from the object store and writes what it makes there,
so any step can be re-run or resumed on its own, in any process.
"""
