window.CG_I18N = { "zh-CN": {} };
