"""``python -m ecgutils.pretrained``: re-create the model that ships with ecgutils."""
from . import main

main()
