import sys
from pathlib import Path

# The scenario module sits beside the tests that import it.
sys.path.insert(0, str(Path(__file__).parent))
