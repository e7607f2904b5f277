package dev.slipway.networking.proxy;

import java.time.Clock;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The date and time helpers of proxy auto-config ({@code weekdayRange}, {@code dateRange},
 * {@code timeRange}), as Netscape defined them and browsers implement them: the arguments are
 * numbers (a day of the month 1-31, a year above 31, hours, minutes, seconds) and names ({@code SUN}
 * to {@code SAT}, {@code JAN} to {@code DEC}); a last argument {@code "GMT"} asks for UTC instead of
 * local time. Ranges include both ends, and a range of weekdays, days, months or times whose start
 * lies after its end wraps around (FRI to MON, 22:00 to 06:00). Arguments that fit none of the forms
 * are an error, which fails the script (the manual settings then apply).
 */
final class PacTime {
    private static final List<String> WEEKDAYS = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");
    private static final List<String> MONTHS = List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");

    private final Clock clock;
    private final ZoneId zone;

    PacTime(Clock clock, ZoneId zone) {
        this.clock = clock;
        this.zone = zone;
    }

    /** {@code weekdayRange(wd1 [, wd2] [, "GMT"])}. */
    boolean weekdayRange(Object... args) {
        boolean gmt = gmt(args);
        int n = args.length - (gmt ? 1 : 0);
        if (n < 1 || n > 2) {
            throw new IllegalArgumentException("weekdayRange takes one or two weekdays (and \"GMT\"), not " + describe(args));
        }
        int today = now(gmt).getDayOfWeek().getValue() % 7;
        int from = weekday(args[0]);
        int to = n == 2 ? weekday(args[1]) : from;
        return within(today, from, to);
    }

    /** {@code dateRange(...)}: a day, month or year; two of one kind; day-month or month-year pairs; day-month-year triples. */
    boolean dateRange(Object... args) {
        boolean gmt = gmt(args);
        int n = args.length - (gmt ? 1 : 0);
        ZonedDateTime now = now(gmt);
        int day = now.getDayOfMonth();
        int month = now.getMonthValue() - 1;
        int year = now.getYear();
        Kind[] kinds = new Kind[n];
        for (int i = 0; i < n; i++) {
            kinds[i] = kind(args[i]);
        }
        switch (n) {
            case 1, 2 -> {
                Kind k = kinds[0];
                if (n == 2 && kinds[1] != k) {
                    break;
                }
                int from = value(args[0], k);
                int to = value(args[n - 1], k);
                return switch (k) {
                    case DAY -> within(day, from, to);
                    case MONTH -> within(month, from, to);
                    case YEAR -> from <= year && year <= to;
                };
            }
            case 4 -> {
                if (kinds[0] == Kind.DAY && kinds[1] == Kind.MONTH && kinds[2] == Kind.DAY && kinds[3] == Kind.MONTH) {
                    return within(month * 32 + day, value(args[1], Kind.MONTH) * 32 + value(args[0], Kind.DAY),
                            value(args[3], Kind.MONTH) * 32 + value(args[2], Kind.DAY));
                }
                if (kinds[0] == Kind.MONTH && kinds[1] == Kind.YEAR && kinds[2] == Kind.MONTH && kinds[3] == Kind.YEAR) {
                    int now12 = year * 12 + month;
                    return value(args[1], Kind.YEAR) * 12 + value(args[0], Kind.MONTH) <= now12
                            && now12 <= value(args[3], Kind.YEAR) * 12 + value(args[2], Kind.MONTH);
                }
            }
            case 6 -> {
                if (Arrays.equals(kinds, new Kind[] {Kind.DAY, Kind.MONTH, Kind.YEAR, Kind.DAY, Kind.MONTH, Kind.YEAR})) {
                    long today = (year * 12L + month) * 32 + day;
                    long from = (value(args[2], Kind.YEAR) * 12L + value(args[1], Kind.MONTH)) * 32 + value(args[0], Kind.DAY);
                    long to = (value(args[5], Kind.YEAR) * 12L + value(args[4], Kind.MONTH)) * 32 + value(args[3], Kind.DAY);
                    return from <= today && today <= to;
                }
            }
            default -> {
            }
        }
        throw new IllegalArgumentException("dateRange takes a day, month or year, two of one kind, day-month or month-year "
                + "pairs, or day-month-year triples (and \"GMT\"), not " + describe(args));
    }

    /** {@code timeRange(hour)}, {@code (h1, h2)}, {@code (h1, m1, h2, m2)}, {@code (h1, m1, s1, h2, m2, s2)}, each with {@code "GMT"}. */
    boolean timeRange(Object... args) {
        boolean gmt = gmt(args);
        int n = args.length - (gmt ? 1 : 0);
        ZonedDateTime now = now(gmt);
        int second = now.toLocalTime().toSecondOfDay();
        return switch (n) {
            case 1 -> now.getHour() == number(args[0], 0, 23, "an hour");
            case 2 -> within(now.getHour(), number(args[0], 0, 23, "an hour"), number(args[1], 0, 23, "an hour"));
            case 4 -> within(second, clock(args[0], args[1], 0), clock(args[2], args[3], 59));
            case 6 -> within(second, clock(args[0], args[1], number(args[2], 0, 59, "a second")),
                    clock(args[3], args[4], number(args[5], 0, 59, "a second")));
            default -> throw new IllegalArgumentException("timeRange takes 1, 2, 4 or 6 numbers (and \"GMT\"), not " + describe(args));
        };
    }

    private static int clock(Object hour, Object minute, int second) {
        return number(hour, 0, 23, "an hour") * 3600 + number(minute, 0, 59, "a minute") * 60 + second;
    }

    private ZonedDateTime now(boolean gmt) {
        return ZonedDateTime.ofInstant(clock.instant(), gmt ? ZoneOffset.UTC : zone);
    }

    private static boolean within(int value, int from, int to) {
        return from <= to ? from <= value && value <= to : value >= from || value <= to;
    }

    private static boolean gmt(Object[] args) {
        return args.length > 0 && args[args.length - 1] instanceof CharSequence s && s.toString().equalsIgnoreCase("GMT");
    }

    private enum Kind { DAY, MONTH, YEAR }

    private static Kind kind(Object arg) {
        if (arg instanceof CharSequence s && MONTHS.contains(s.toString().toUpperCase(Locale.ROOT))) {
            return Kind.MONTH;
        }
        return number(arg, 1, 9999, "a day, month or year") > 31 ? Kind.YEAR : Kind.DAY;
    }

    private static int value(Object arg, Kind kind) {
        return kind == Kind.MONTH ? MONTHS.indexOf(arg.toString().toUpperCase(Locale.ROOT)) : number(arg, 1, 9999, "a day or year");
    }

    private static int weekday(Object arg) {
        int i = arg instanceof CharSequence s ? WEEKDAYS.indexOf(s.toString().toUpperCase(Locale.ROOT)) : -1;
        if (i < 0) {
            throw new IllegalArgumentException("not a weekday (SUN to SAT): " + arg);
        }
        return i;
    }

    /** A whole number within bounds, given as a number or as its digits. */
    private static int number(Object arg, int min, int max, String what) {
        double d;
        if (arg instanceof Number number) {
            d = number.doubleValue();
        } else {
            try {
                d = Double.parseDouble(String.valueOf(arg).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("not " + what + ": " + arg);
            }
        }
        if (d != Math.rint(d) || d < min || d > max) {
            throw new IllegalArgumentException("not " + what + " (" + min + " to " + max + "): " + arg);
        }
        return (int) d;
    }

    private static String describe(Object[] args) {
        return Arrays.toString(args);
    }
}
