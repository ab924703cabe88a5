// The one escaper for what the summary (HTML) and the PR comment (Markdown tables) show.
import { describe, expect, it } from '@jest/globals'
import { escapeHtml, tableCell } from '../../src/report/escape.js'

describe('escapeHtml', () => {
  it('shows markup as text', () => {
    expect(escapeHtml('<img src="x" onerror=alert(1)> & co')).toBe(
      '&lt;img src=&quot;x&quot; onerror=alert(1)&gt; &amp; co'
    )
  })
})

describe('tableCell', () => {
  it('keeps a value in its cell: pipes escaped, lines joined, markup shown as text', () => {
    expect(tableCell('a | b\r\nc <b>')).toBe('a \\| b c &lt;b&gt;')
  })
})
