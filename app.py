"""formcheck's Streamlit app (``streamlit run app.py``): the pages live in ``formcheck.ui``."""
from formcheck.ui.main import main

# Streamlit runs this file as "__main__". Guarded, so that importing it under another name does
# nothing: a process pool started with "spawn" re-imports the parent's main module (as
# "__mp_main__"), and after an AppTest run in the same process that module is this file.
if __name__ == "__main__":
    main()
