# The coverage table of scripts/coverage.sh. Input lines: a file name, then
# Functions, Missed, Executed, Lines, Missed, Cover, Branches, Missed, Cover
# (llvm-cov report's columns). Prints lines and branches covered per file of
# src/ and in total; exits 1 when min > 0 and a file's branches fall below it.
/^src\// {
    lh = $5 - $6; bh = $8 - $9
    lines += $5; lmiss += $6; br += $8; bmiss += $9
    lp = $5 ? 100 * lh / $5 : 100; bp = $8 ? 100 * bh / $8 : 100
    low = min > 0 && bp < min
    printf "%-28s %5d / %5d lines %6.2f%%   %5d / %5d branches %6.2f%%%s\n", $1, lh, $5, lp, bh, $8, bp,
        low ? "  < " min "%" : ""
    if (low) bad++
}
END {
    if (lines)
        printf "%-28s %5d / %5d lines %6.2f%%   %5d / %5d branches %6.2f%%\n", "TOTAL src/", lines - lmiss, lines,
            100 * (lines - lmiss) / lines, br - bmiss, br, br ? 100 * (br - bmiss) / br : 100
    if (bad) {
        printf "coverage: %d file(s) below %s%% of branches\n", bad, min
        exit 1
    }
}
