export const id = 239;
export const ids = [239];
export const modules = {

/***/ 5239:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   upsertComment: () => (/* binding */ upsertComment)
/* harmony export */ });
/* harmony import */ var _actions_github__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(542);
// GitHub's REST API through @actions/github (its Octokit honours GITHUB_API_URL and the proxy
// variables): find this step's comment by its marker among every comment of the pull request
// (paginated, 100 a page), then update it or create it. Other comments are only read.

async function upsertComment(token, pr, marker, body) {
    const octokit = (0,_actions_github__WEBPACK_IMPORTED_MODULE_0__/* .getOctokit */ .Q)(token);
    const where = { owner: pr.owner, repo: pr.repo };
    let existing;
    for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, {
        ...where,
        issue_number: pr.number,
        per_page: 100
    })) {
        existing = page.data.find((comment) => comment.body?.includes(marker));
        if (existing)
            break;
    }
    if (existing) {
        const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body });
        return { created: false, url: data.html_url };
    }
    const { data } = await octokit.rest.issues.createComment({ ...where, issue_number: pr.number, body });
    return { created: true, url: data.html_url };
}


/***/ })

};
