"""voters.csv and new_voters.csv: statsmodels' anes96 data as a European spreadsheet
would export it (semicolons, decimal commas, the party spelled out, a respondent ID,
three ages typed as '?')."""

import numpy as np
import statsmodels.api as sm

d = sm.datasets.anes96.load_pandas().data
parties = np.array(["strong Dem", "weak Dem", "indep Dem", "indep", "indep Rep", "weak Rep",
                    "strong Rep"])
f = d[["TVnews", "selfLR", "educ", "income"]].astype(int).assign(
    logpopul=np.log(d.popul + 0.1).round(3), party=parties[d.PID.astype(int)],
    age=d.age.astype(int).astype(str), vote=np.where(d.vote == 1, "Dole", "Clinton"))
f.insert(0, "respondent", [f"R{i:04d}" for i in range(1, len(f) + 1)])
f = f[["respondent", "logpopul", "TVnews", "selfLR", "party", "age", "educ", "income", "vote"]]
f.loc[[4, 77, 300], "age"] = "?"
f.iloc[:900].to_csv("voters.csv", sep=";", decimal=",", index=False)
f.iloc[900:].drop(columns="vote").to_csv("new_voters.csv", sep=";", decimal=",", index=False)
