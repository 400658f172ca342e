{#- Exact decimal arithmetic. Quantities and prices are decimal(38,10); DuckDB turns a
    decimal division into a double, which would break half-up rounding at the cent, so
    division is done on scaled integers here (truncated at 12 decimals, then rounded once
    per fee). -#}
{% macro num_type() %}decimal(38, 10){% endmacro %}
{% macro money_type() %}decimal(20, 4){% endmacro %}
{% macro to_num(expr) %}cast({{ expr }} as {{ tally.num_type() }}){% endmacro %}

{% macro divide(num, den) %}{{ return(adapter.dispatch('divide', 'tally')(num, den)) }}{% endmacro %}
{% macro default__divide(num, den) %}cast(({{ num }}) / nullif({{ den }}, 0) as decimal(38, 12)){% endmacro %}
{% macro duckdb__divide(num, den) -%}
cast(cast(
    (cast(cast({{ num }} as decimal(38, 10)) * 10000000000 as hugeint) * 1000000000000)
    // nullif(cast(cast({{ den }} as decimal(38, 10)) * 10000000000 as hugeint), 0)
  as decimal(38, 0)) * cast(0.000000000001 as decimal(38, 12)) as decimal(38, 12))
{%- endmacro %}

{#- Spark: the same truncation at 12 decimals, exact. Spark's `/` rounds to the scale its
    type rules leave (6 digits once precision is short), so the quotient is built from exact
    remainders instead: q = i + f·10⁻¹², i = trunc(num / den), f = trunc((num % den)·10¹² / den);
    `x - x % d` is a whole multiple of d, so each division below is exact. With the profile's
    spark.sql.decimalOperations.allowPrecisionLoss=false (as DuckDB, scales are kept and an
    overflow is an error). Truncation toward zero, as DuckDB's `//`. -#}
{% macro spark__divide(num, den) -%}
{%- set n = 'cast(' ~ num ~ ' as decimal(38, 10))' -%}
{%- set d = 'cast(nullif(' ~ den ~ ', 0) as decimal(38, 10))' -%}
{%- set r = '(' ~ n ~ ' % ' ~ d ~ ')' -%}
{%- set r12 = '(' ~ r ~ ' * 1000000000000)' -%}
cast(
    cast(cast((({{ n }} - {{ r }}) / {{ d }}) as decimal(38, 0)) as decimal(38, 12))
    + cast(cast((({{ r12 }} - ({{ r12 }} % {{ d }})) / {{ d }}) as decimal(13, 0))
           * cast(0.000000000001 as decimal(13, 12)) as decimal(13, 12))
  as decimal(38, 12))
{%- endmacro %}

{#- num / den rounded UP (toward +infinity) to 10 decimals, exact: Lago's weighted sum is
    `.ceil(20)` and we keep 10 decimals, so a level of 556.98333... is 556.9833333334, never the
    truncation's ...3333, which would price an exact half of the minor unit (289.98333... units
    at 2.43 = 704.6595 KWD) a hair below it and round it down. From divide's truncation q (12
    decimals): ceil(q) at 10, plus 1e-10 when q is already a multiple of 1e-10 but short of
    the positive quotient (q * den <> num); for a negative quotient truncation is already up. -#}
{% macro divide_ceil(num, den) -%}
{%- set q = '(' ~ tally.divide(num, den) ~ ')' -%}
{%- set n = 'cast(' ~ num ~ ' as decimal(38, 10))' -%}
cast(
    ceil({{ q }} * 10000000000) * cast(0.0000000001 as decimal(11, 10))
    + case when {{ n }} > 0
            and ceil({{ q }} * 10000000000) = {{ q }} * 10000000000
            and {{ q }} * ({{ den }}) <> {{ n }}
        then cast(0.0000000001 as decimal(11, 10)) else cast(0 as decimal(11, 10)) end
as decimal(38, 10))
{%- endmacro %}

{#- ceil(num / den) for non-negative decimals, exact (packages are billed whole). -#}
{% macro ceil_divide(num, den) %}{{ return(adapter.dispatch('ceil_divide', 'tally')(num, den)) }}{% endmacro %}
{% macro default__ceil_divide(num, den) %}ceil(cast({{ num }} as decimal(38, 10)) / {{ den }}){% endmacro %}
{% macro duckdb__ceil_divide(num, den) -%}
cast((cast(cast({{ num }} as decimal(38, 10)) * 10000000000 as hugeint)
      + cast(cast({{ den }} as decimal(38, 10)) * 10000000000 as hugeint) - 1)
     // cast(cast({{ den }} as decimal(38, 10)) * 10000000000 as hugeint) as decimal(38, 0))
{%- endmacro %}

{% macro spark__ceil_divide(num, den) -%}
{%- set n = 'cast(' ~ num ~ ' as decimal(38, 10))' -%}
{%- set d = 'cast(' ~ den ~ ' as decimal(38, 10))' -%}
cast(cast((({{ n }} - ({{ n }} % {{ d }})) / {{ d }}) as decimal(38, 0))
     + case when {{ n }} % {{ d }} > 0 then 1 else 0 end as decimal(38, 0))
{%- endmacro %}

{#- Round half away from zero to the currency's minor unit (a column), once per fee. -#}
{% macro round_money(amount, minor_unit) -%}
{#- each branch cast on its own: a CASE over decimals of different scales may take the smallest -#}
case {{ minor_unit }}
    when 0 then cast(round({{ amount }}, 0) as {{ tally.money_type() }})
    when 1 then cast(round({{ amount }}, 1) as {{ tally.money_type() }})
    when 3 then cast(round({{ amount }}, 3) as {{ tally.money_type() }})
    when 4 then cast(round({{ amount }}, 4) as {{ tally.money_type() }})
    else cast(round({{ amount }}, 2) as {{ tally.money_type() }})
end
{%- endmacro %}

{#- An amount in minor units (Lago's *_cents, a decimal of at most 15 decimals) in major units:
    ÷ 10^minor_unit, exactly (a product by a decimal literal, no floating point): decimal(38, 19)
    holds 15 decimals past a minor unit of at most 4. -#}
{% macro minor_to_major(cents, minor_unit) -%}
{#- each branch cast on its own: a CASE over decimals of different scales may take the smallest -#}
case {{ minor_unit }}
    when 0 then cast({{ cents }} as decimal(38, 19))
    when 1 then cast({{ cents }} * cast(0.1 as decimal(2, 1)) as decimal(38, 19))
    when 3 then cast({{ cents }} * cast(0.001 as decimal(4, 3)) as decimal(38, 19))
    when 4 then cast({{ cents }} * cast(0.0001 as decimal(5, 4)) as decimal(38, 19))
    else cast({{ cents }} * cast(0.01 as decimal(3, 2)) as decimal(38, 19))
end
{%- endmacro %}

{#- Credit shares and taxes of a fee (int_invoice_line_taxes), in one type: decimal(38, 12)
    holds a share or a net amount exactly (at most 5 decimals past a minor unit of at most 4,
    plus money's 4), with 26 digits before the point. -#}
{% macro share_type() %}decimal(38, 12){% endmacro %}

{#- num / den for num >= 0, den > 0, rounded half-up to 5 decimals of the currency's minor
    unit (a column): Lago keeps a fee's share of a coupon or progressive credit in
    precise_coupons_amount_cents, a decimal(30, 5) of cents. Exact for num and den of at most
    12 decimals (a coupon of money times a net amount of at most 8 decimals: minor unit <= 3). -#}
{% macro round_share(num, den, minor_unit) -%}
case {{ minor_unit }}
    {%- for minor in range(0, 5) %}
    when {{ minor }} then {{ tally.round_divide(num, den, minor + 5) }}
    {%- endfor %}
end
{%- endmacro %}

{% macro round_divide(num, den, places) %}{{ return(adapter.dispatch('round_divide', 'tally')(num, den, places)) }}{% endmacro %}
{% macro default__round_divide(num, den, places) -%}
cast(round(cast({{ num }} as decimal(38, 24)) / nullif({{ den }}, 0), {{ places }}) as {{ tally.share_type() }})
{%- endmacro %}
{#- On scaled integers: whole part, then the remainder's `places` decimals, half-up
    (remainder < den, so remainder * 2 * 10^places stays within hugeint for den < 10^16). -#}
{% macro duckdb__round_divide(num, den, places) -%}
{%- set n = 'cast(cast(' ~ num ~ ' as decimal(38, 12)) * 1000000000000 as hugeint)' -%}
{%- set d = 'nullif(cast(cast(' ~ den ~ ' as decimal(38, 12)) * 1000000000000 as hugeint), 0)' -%}
cast(
    cast({{ n }} // {{ d }} as decimal(38, 0))
    + cast((({{ n }} % {{ d }}) * {{ 2 * 10 ** places }} + {{ d }}) // (2 * {{ d }}) as decimal(38, 0))
        * cast(0.{{ '0' * (places - 1) }}1 as decimal(38, {{ places }}))
as {{ tally.share_type() }})
{%- endmacro %}

{#- amount x rate / 100 exactly (rate in percent, <= 100, at most 10 decimals; amount of
    share_type with at most 9 decimals): decimal(38, 21), 17 digits before the point. The one
    rounding is the caller's, to the minor unit. -#}
{% macro percent_of(amount, rate) -%}
cast(cast({{ amount }} as decimal(38, 9)) * cast({{ rate }} as decimal(38, 10)) * cast(0.01 as decimal(3, 2))
    as decimal(38, 21))
{%- endmacro %}

{#- Lago's unit rounding option on a metric: round/ceil/floor at a (possibly negative)
    precision. Precision must be a literal for DuckDB's round, hence one branch per value. -#}
{% macro apply_unit_rounding(units, fn, precision) -%}
case
    when {{ fn }} is null then {{ units }}
    {%- for p in range(-9, 11) %}
    {%- set scale = ('1' ~ ('0' * p)) if p >= 0 else ('0.' ~ ('0' * (-p - 1)) ~ '1') %}
    {%- set inverse = ('0.' ~ ('0' * (p - 1)) ~ '1') if p > 0 else ('1' ~ ('0' * (-p))) %}
    when coalesce({{ precision }}, 0) = {{ p }} then cast(case {{ fn }}
        when 'round' then round({{ units }}, {{ p }})
        when 'ceil' then ceil({{ units }} * {{ scale }}) * {{ inverse }}
        else floor({{ units }} * {{ scale }}) * {{ inverse }} end as {{ tally.num_type() }})
    {%- endfor %}
end
{%- endmacro %}

{#- An amount for `days` of a period of `full_days` days (Lago's day proration of
    subscription fees, charge minimums and commitments): exact when the period is whole. -#}
{% macro prorate(amount, days, full_days) -%}
{#- both branches at the divide's 12 decimals: no second rounding before the one to the minor unit -#}
case when {{ days }} = {{ full_days }} then cast({{ amount }} as decimal(38, 12))
    else {{ tally.divide(amount ~ ' * ' ~ days, full_days) }} end
{%- endmacro %}

{#- The value of the row with the highest `order_key` (a tuple of columns, unique in the
    group), null when that row's value is null: the latest value without a sorting window. -#}
{% macro value_at_max(value, order_key) %}{{ return(adapter.dispatch('value_at_max', 'tally')(value, order_key)) }}{% endmacro %}
{% macro default__value_at_max(value, order_key) %}max_by({{ value }}, struct({{ order_key | join(', ') }})){% endmacro %}
{% macro duckdb__value_at_max(value, order_key) %}arg_max_null({{ value }}, ({{ order_key | join(', ') }})){% endmacro %}
