"""A question's meaning and its answer: intent, what is asked, the plan meant, the Answer."""
