-- 0..9999, built from a cross join so it runs on any adapter (no generate_series on Spark).
with digits as (
    {% for d in range(10) %}select {{ d }} as d{% if not loop.last %}
    union all
    {% endif %}{% endfor %}
),

final as (
    select ones.d + 10 * tens.d + 100 * hundreds.d + 1000 * thousands.d as n
    from digits as ones
    cross join digits as tens
    cross join digits as hundreds
    cross join digits as thousands
)

select * from final
